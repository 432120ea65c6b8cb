"""Storing source checks and reading source health as of an instant (migration 0013)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb

from ctwatch.evidence.health import SourceCheck
from ctwatch.warehouse.sqlfiles import load_sql, query_dicts

MAX_FAILURE_CHARS = 500


def record_checks(con: duckdb.DuckDBPyConnection, checks: Sequence[SourceCheck]) -> None:
    if not checks:
        return
    con.execute(
        load_sql("health/insert_checks"),
        {
            "source": [c.source for c in checks],
            "target": [c.target for c in checks],
            "checked_at": [c.checked_at for c in checks],
            "ok": [c.ok for c in checks],
            "failure": [None if c.failure is None else c.failure[:MAX_FAILURE_CHARS] for c in checks],
        },
    )


def failing_streaks(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict[str, Any]]:
    """Per source and target that failed by `as_of`: last_success_at, last_failure_at, last_failure,
    and its latest failing streak (failing_since, recovered_at: None while it lasts)."""
    return query_dicts(con, "health/streaks", {"as_of": as_of})


def health(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict[str, Any]]:
    """Per source and target: last success, last failure and its reason, from checks made by `as_of`."""
    return query_dicts(con, "health/health", {"as_of": as_of})
