"""Open the warehouse file: wait out other processes' locks, bring the schema up to date."""

from __future__ import annotations

import logging
import random
import re
import time
from pathlib import Path

import duckdb

from ctwatch.warehouse.errors import WarehouseError, WarehouseLockedError
from ctwatch.warehouse.schema import check_schema_current, migrate
from ctwatch.warehouse.sqlfiles import load_sql

log = logging.getLogger(__name__)

FIRST_RETRY_DELAY_S = 0.05
# How long `connect` waits for another process's lock unless told otherwise; an entry point (the
# command line's --lock-wait) may change it for its process.
lock_wait_s = 60.0
MAX_RETRY_DELAY_S = 2.0
# DuckDB: 'Could not set lock on file "...": Conflicting lock is held in <program> (PID <n>)'
_LOCK_MESSAGE = re.compile(r"Could not set lock on file|Conflicting lock", re.IGNORECASE)
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def connect(
    path: str | Path, *, read_only: bool = False, lock_timeout_s: float | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse at `path`, waiting up to `lock_timeout_s` (default: `lock_wait_s`) for
    another process's lock.

    Read-write: creates the parent folder and applies pending migrations.
    Read-only: writes nothing and raises SchemaBehindError if migrations are pending.
    The session time zone is UTC.
    """
    path = Path(path)
    if read_only:
        if not path.exists():
            raise WarehouseError(f"no warehouse at {path}: open it read-write once to create it")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    wait_s = lock_wait_s if lock_timeout_s is None else lock_timeout_s
    con = _open_with_retry(path, read_only=read_only, lock_timeout_s=wait_s)
    try:
        con.execute(load_sql("meta/set_utc_time_zone"))
        if read_only:
            check_schema_current(con)
        else:
            applied = migrate(con)
            if applied:
                log.info("warehouse %s: applied migrations %s", path, applied)
    except BaseException:
        con.close()
        raise
    return con


def _open_with_retry(path: Path, *, read_only: bool, lock_timeout_s: float) -> duckdb.DuckDBPyConnection:
    started = time.monotonic()
    delay_s = FIRST_RETRY_DELAY_S
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            message = str(exc)
            if not _LOCK_MESSAGE.search(message):
                raise
            waited_s = time.monotonic() - started
            remaining_s = lock_timeout_s - waited_s
            if remaining_s <= 0:
                holder = _LOCK_HOLDER.search(message)
                raise WarehouseLockedError(
                    path,
                    waited_s=waited_s,
                    holder=f"{holder.group(1)} (PID {holder.group(2)})" if holder else None,
                    duckdb_message=message,
                ) from exc
            # Jitter keeps several waiting tasks from retrying in lock-step; not security-relevant.
            sleep_s = min(remaining_s, random.uniform(delay_s / 2, delay_s))  # noqa: S311
            log.debug("warehouse %s is locked; retrying in %.2f s", path, sleep_s)
            time.sleep(sleep_s)
            delay_s = min(delay_s * 2, MAX_RETRY_DELAY_S)
