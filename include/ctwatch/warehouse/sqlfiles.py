"""SQL kept as package data: `sql/<area>/<name>.sql`, read once per process."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import duckdb

from ctwatch.warehouse._db import row_count

_SQL_NAME = re.compile(r"[a-z0-9_]+/[a-z0-9_]+")


@cache
def load_sql(name: str) -> str:
    """Return the text of `sql/<area>/<name>.sql`, e.g. `load_sql("certificates/insert_new")`."""
    if not _SQL_NAME.fullmatch(name):
        raise ValueError(f"SQL file name must look like 'area/name', got {name!r}")
    area, stem = name.split("/")
    return (
        resources.files("ctwatch.warehouse").joinpath("sql", area, f"{stem}.sql").read_text(encoding="utf-8")
    )


def query_dicts(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Run `sql/<area>/<name>.sql` with bound `params`; one dict per row, keyed by column name."""
    cursor = con.execute(load_sql(name), params)
    columns = [column[0] for column in cursor.description or ()]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def query_count(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> int:
    """Run the `SELECT count(*)` of `sql/<area>/<name>.sql` with bound `params`; its number."""
    return row_count(con.execute(load_sql(name), params or {}))
