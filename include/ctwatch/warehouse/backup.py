"""Back up the warehouse into a folder (a compact DuckDB copy and a manifest) and restore it.

The copy is DuckDB's own `COPY FROM DATABASE` into a new file: every table, view, index and
sequence (at its current value) as the engine stores them, so restoring is a file copy. It is taken
through a read-only attach, which holds the file's lock like a read-only task: writers wait for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ctwatch.warehouse.connection import check_intact, connect, naming_trouble, wait_for_lock
from ctwatch.warehouse.errors import WarehouseDamagedError, WarehouseError
from ctwatch.warehouse.sqlfiles import load_sql, query_count, query_dicts

MANIFEST = "manifest.json"
BEFORE_RESTORE = ".before-restore"
WAL = ".wal"  # DuckDB's write-ahead log beside a database file: `<file>.wal`


def back_up(path: Path, dest_dir: Path, *, lock_timeout_s: float | None = None) -> dict[str, Any]:
    """Copy the warehouse at `path` into the new or empty folder `dest_dir`; return its manifest.

    Reading every block of the warehouse, the copy also finds a damaged one (WarehouseDamagedError).
    """
    if not path.is_file():
        raise WarehouseError(f"no warehouse at {path}")
    if dest_dir.exists() and any(dest_dir.iterdir()):
        raise WarehouseError(f"backup folder {dest_dir} is not empty: name a new one")
    dest_dir.mkdir(parents=True, exist_ok=True)
    copy = dest_dir / path.name
    con = duckdb.connect()
    try:
        with naming_trouble(path):
            wait_for_lock(
                path,
                lambda: con.execute(load_sql("backup/attach_source"), {"path": str(path)}),
                lock_timeout_s,
            )
            con.execute(load_sql("backup/use_source"))
            check_intact(con, path)
            schema_version = max(
                version for version, _ in con.execute(load_sql("meta/applied_migrations")).fetchall()
            )
            con.execute(load_sql("backup/attach_copy"), {"path": str(copy)})
            con.execute(load_sql("backup/copy_database"))
            row_counts = _row_counts(con, "backup")
    except BaseException:
        con.close()
        copy.unlink(missing_ok=True)
        _wal_of(copy).unlink(missing_ok=True)
        raise
    con.close()
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": str(path.resolve()),
        "database_file": copy.name,
        "bytes": copy.stat().st_size,
        "sha256": _sha256(copy),
        "schema_version": schema_version,
        "duckdb_version": duckdb.__version__,
        "row_counts": row_counts,
    }
    # Written last: a folder without a manifest is no (complete) backup.
    (dest_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def restore(backup_dir: Path, path: Path, *, replace: bool = False) -> dict[str, Any]:
    """Recreate the warehouse at `path` from `backup_dir`; return what was done.

    A healthy warehouse at `path` is only replaced with `replace`; a replaced file (healthy or
    damaged) is kept as `<name>.before-restore`. A backup taken by older code is migrated.
    """
    manifest = read_manifest(backup_dir)
    copy = backup_dir / manifest["database_file"]
    if _sha256(copy) != manifest["sha256"]:
        raise WarehouseError(f"backup {copy} is damaged: its SHA-256 differs from {backup_dir / MANIFEST}")
    aside = path.with_name(path.name + BEFORE_RESTORE)
    if path.exists():
        if _healthy(path) and not replace:
            raise WarehouseError(f"warehouse {path} exists and opens: add --replace to restore over it")
        if aside.exists():
            raise WarehouseError(f"{aside} exists (an earlier restore's?): move it away first")
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".restoring")
    try:
        _copy_durably(copy, staged)
        connect(staged).close()
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    kept_aside = None
    if path.exists():
        path.replace(aside)
        # A log left beside the old file would be replayed into the restored one.
        if _wal_of(path).exists():
            _wal_of(path).replace(_wal_of(aside))
        kept_aside = str(aside)
    staged.replace(path)
    return {
        "warehouse": str(path),
        "backup": str(backup_dir),
        "backup_created_at": manifest["created_at"],
        "kept_aside": kept_aside,
        "row_counts": manifest["row_counts"],
    }


def read_manifest(backup_dir: Path) -> dict[str, Any]:
    """The manifest of the backup in `backup_dir`; WarehouseError naming it if missing or garbled."""
    manifest_file = backup_dir / MANIFEST
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise WarehouseError(f"no backup in {backup_dir}: {MANIFEST} is missing") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WarehouseError(f"{manifest_file} is no backup manifest: {exc}") from exc
    expected = {"created_at", "database_file", "sha256", "row_counts"}
    if not isinstance(manifest, dict) or not expected <= manifest.keys():
        raise WarehouseError(f"{manifest_file} is no backup manifest: it needs {', '.join(sorted(expected))}")
    return manifest


def _row_counts(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    return {
        table["table_name"]: query_count(con, "backup/count_rows", {"table": table["qualified_name"]})
        for table in query_dicts(con, "backup/tables", {"database": database})
    }


def _healthy(path: Path) -> bool:
    try:
        connect(path).close()
    except WarehouseDamagedError:
        return False
    return True


def _copy_durably(source: Path, target: Path) -> None:
    """Copy and flush to disk, so that renaming the copy into place cannot leave an empty file."""
    shutil.copyfile(source, target)
    with target.open("rb+") as copied:
        os.fsync(copied.fileno())


def _sha256(path: Path) -> str:
    with path.open("rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


def _wal_of(path: Path) -> Path:
    return path.with_name(path.name + WAL)
