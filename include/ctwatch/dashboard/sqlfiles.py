"""The snapshot's own SQL (SQLite), one statement or script per file under `dashboard/sql/`."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_NAME = re.compile(r"[a-z_]+")


@cache
def dashboard_sql(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"dashboard SQL file name must be lower-case words, got {name!r}")
    return resources.files("ctwatch.dashboard").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
