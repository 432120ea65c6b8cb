"""Small helpers over a DuckDB connection: transactions and changed-row counts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Commit the block's statements together, or roll all of them back if the block raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def row_count(result: duckdb.DuckDBPyConnection) -> int:
    """Rows changed by the INSERT/UPDATE just executed (DuckDB returns the count as a one-cell result)."""
    row = result.fetchone()
    return int(row[0]) if row else 0
