"""Small helpers over a DuckDB connection: transactions, changed-row counts and bound batches.

The transaction statements (BEGIN, COMMIT, ROLLBACK) are the only SQL of the package kept inline:
they are control, not queries, and have no parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

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
    """Rows changed by the INSERT/UPDATE just executed (DuckDB returns the count as a one-cell result),
    or the number a `SELECT count(*)` just returned."""
    row = result.fetchone()
    return int(row[0]) if row else 0


def bound_columns(rows: Sequence[object], names: Iterable[str]) -> dict[str, list[Any]]:
    """One list per attribute name, for the statements that `unnest` a batch column by column."""
    return {name: [getattr(row, name) for row in rows] for name in names}
