"""`python -m ctwatch_airflow.airflow_cli ARGS...`: Airflow's own CLI, safe next to a running
SQLite-backed instance.

With SQLite, a CLI call that writes while reading (a backfill creating its runs while it walks
the DAG's intervals) holds a read snapshot; once the scheduler commits in between, upgrading that
snapshot to a write fails at once with `database is locked`, whatever the busy timeout. Taking the
write lock when each transaction begins makes such a call wait its turn instead.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine


def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    # sqlite3's own implicit BEGIN would come before ours and be deferred
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    if connection.dialect.driver == "pysqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def take_write_lock_at_begin(target: type[Engine] | Engine) -> None:
    """Every SQLite (pysqlite) transaction of `target`, one engine or all of them, begins with
    BEGIN IMMEDIATE; other databases are left alone."""
    event.listen(target, "connect", _autocommit_driver)
    event.listen(target, "begin", _begin_immediate)


def main() -> None:
    take_write_lock_at_begin(Engine)
    # imported once the listeners are in place: importing Airflow configures its engine
    from airflow.__main__ import main as airflow_main  # noqa: PLC0415

    airflow_main()


if __name__ == "__main__":
    main()
