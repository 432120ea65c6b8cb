"""Open the warehouse file: wait out other processes' locks, refuse a damaged file, bring the schema
up to date; name a damaged file or a full volume when DuckDB finds one later (`naming_trouble`)."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from ctwatch.warehouse.errors import (
    WarehouseDamagedError,
    WarehouseError,
    WarehouseFullError,
    WarehouseLockedError,
)
from ctwatch.warehouse.schema import check_schema_current, migrate
from ctwatch.warehouse.sqlfiles import load_sql, query_dicts

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_RETRY_DELAY_S = 0.05
# How long `connect` waits for another process's lock unless told otherwise; an entry point (the
# command line's --lock-wait) may change it for its process.
lock_wait_s = 60.0
MAX_RETRY_DELAY_S = 2.0
# DuckDB: 'Could not set lock on file "...": Conflicting lock is held in <program> (PID <n>)'
_LOCK_MESSAGE = re.compile(r"Could not set lock on file|Conflicting lock", re.IGNORECASE)
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")
# What DuckDB says of a file that is no DuckDB file, was cut short, or has a block failing its checksum.
_DAMAGE_MESSAGE = re.compile(
    r"not a valid DuckDB database file|Could not read enough bytes|Corrupt database file", re.IGNORECASE
)
# What DuckDB says when a write to the database, its write-ahead log or its temporary files fails
# for want of space: 'Could not write file "<path>": No space left on device'.
_FULL_MESSAGE = re.compile(r"No space left on device|Disk quota exceeded", re.IGNORECASE)
_WRITTEN_FILE = re.compile(r'file "([^"]+)"')
# A commit whose WAL write succeeded, followed by a checkpoint that could not write.
_DURABLE_MESSAGE = re.compile(r"COMMIT succeeded and is durable", re.IGNORECASE)
# A DuckDB file starts with three 4 KiB headers (one main, two alternating database headers); its
# blocks follow.
_HEADERS_BYTES = 3 * 4096


def connect(
    path: str | Path, *, read_only: bool = False, lock_timeout_s: float | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse at `path`, waiting up to `lock_timeout_s` (default: `lock_wait_s`) for
    another process's lock.

    Read-write: creates the parent folder and applies pending migrations.
    Read-only: writes nothing and raises SchemaBehindError if migrations are pending.
    A file that is no DuckDB file, is cut short or fails a checksum raises WarehouseDamagedError.
    The session time zone is UTC.
    """
    path = Path(path)
    if read_only:
        if not path.exists():
            raise WarehouseError(f"no warehouse at {path}: open it read-write once to create it")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = wait_for_lock(path, lambda: duckdb.connect(str(path), read_only=read_only), lock_timeout_s)
    try:
        with naming_trouble(path):
            con.execute(load_sql("meta/set_utc_time_zone"))
            check_intact(con, path)
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


def check_intact(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Raise WarehouseDamagedError if the file at `path` (the connection's current database) is too
    short for its blocks in use: DuckDB itself notices only when it reads a missing block."""
    (size,) = query_dicts(con, "meta/database_size", {})
    # Free blocks may lie past the end of the file, but the highest block in use cannot.
    needed = _HEADERS_BYTES + size["block_size"] * size["used_blocks"]
    actual = path.stat().st_size
    if actual < needed:
        raise WarehouseDamagedError(
            path, f"{actual} bytes where its {size['used_blocks']} blocks in use need {needed}: truncated"
        )


@contextmanager
def naming_trouble(path: Path) -> Iterator[None]:
    """Turn DuckDB finding the file at `path` damaged, or its volume full, inside the block, into
    WarehouseDamagedError or WarehouseFullError."""
    try:
        yield
    except duckdb.Error as exc:
        trouble = trouble_of(path, exc)
        if trouble is None:
            raise
        raise trouble from exc


def trouble_of(path: Path, exc: BaseException) -> WarehouseError | None:
    """The error to raise instead of `exc` if it is DuckDB finding the file at `path` damaged or its
    volume full."""
    return damage_of(path, exc) or full_volume_of(path, exc)


def full_volume_of(path: Path, exc: BaseException) -> WarehouseFullError | None:
    """WarehouseFullError if `exc`, or the error it was raised while handling (a ROLLBACK refused
    after a fatal write error), is DuckDB failing to write for want of space."""
    cause: BaseException | None = exc
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        message = " ".join(str(cause).split())
        if isinstance(cause, duckdb.Error) and _FULL_MESSAGE.search(message):
            written = _WRITTEN_FILE.search(message)
            return WarehouseFullError(
                path,
                written.group(1) if written else str(path),
                committed=_DURABLE_MESSAGE.search(message) is not None,
                duckdb_message=message,
            )
        cause = cause.__cause__ or cause.__context__
    return None


def damage_of(path: Path, exc: BaseException) -> WarehouseDamagedError | None:
    """The error to raise instead of `exc` if it is DuckDB finding the file at `path` damaged."""
    if isinstance(exc, duckdb.Error) and _DAMAGE_MESSAGE.search(str(exc)):
        return WarehouseDamagedError(path, " ".join(str(exc).split()))
    return None


def wait_for_lock(path: Path, open_file: Callable[[], T], lock_timeout_s: float | None = None) -> T:
    """`open_file()`, which opens the DuckDB file at `path`, retried while another process holds the
    file's lock, for up to `lock_timeout_s` (default: `lock_wait_s`)."""
    wait_s = lock_wait_s if lock_timeout_s is None else lock_timeout_s
    started = time.monotonic()
    delay_s = FIRST_RETRY_DELAY_S
    while True:
        try:
            with naming_trouble(path):
                return open_file()
        except duckdb.IOException as exc:
            message = str(exc)
            if not _LOCK_MESSAGE.search(message):
                raise
            waited_s = time.monotonic() - started
            remaining_s = wait_s - waited_s
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
