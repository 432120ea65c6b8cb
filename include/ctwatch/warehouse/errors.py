"""Errors the warehouse raises when it cannot give a usable connection."""

from __future__ import annotations

from pathlib import Path


class WarehouseError(Exception):
    """Base class: the warehouse file cannot be used as asked."""


class WarehouseLockedError(WarehouseError):
    """Another process kept the DuckDB file locked for longer than the caller would wait."""

    def __init__(self, path: Path, waited_s: float, holder: str | None, duckdb_message: str) -> None:
        self.path = path
        self.waited_s = waited_s
        self.holder = holder  # e.g. "/usr/bin/python3 (PID 1234)" when DuckDB names it
        held_by = f" held by {holder}" if holder else ""
        super().__init__(
            f"warehouse {path} is locked{held_by}; gave up after {waited_s:.1f} s "
            f"(DuckDB allows one writer process, and a writer blocks readers): {duckdb_message}"
        )


class WarehouseDamagedError(WarehouseError):
    """The DuckDB file is truncated, overwritten or no DuckDB file at all."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        super().__init__(
            f"warehouse {path} is damaged ({what}); restore the latest backup "
            f"(`ctwatch restore BACKUP_DIR --warehouse {path}`), or move the file away and rebuild it "
            'from the sources (README, "Backfilling a past incident")'
        )


class WarehouseFullError(WarehouseError):
    """The volume holding the DuckDB file ran out of space (or quota) while DuckDB wrote to it."""

    def __init__(self, path: Path, written: str, *, committed: bool, duckdb_message: str) -> None:
        self.path = path
        self.committed = committed
        outcome = (
            "its last transaction is committed and durable (DuckDB's write-ahead log holds it) but was "
            "not checkpointed into the file; the next open checkpoints it"
            if committed
            else "the transaction that hit it was rolled back: nothing of it is stored"
        )
        super().__init__(
            f"warehouse {path}: no space left on its volume (DuckDB writing {written}); {outcome}. "
            f"Make room on the volume of {path.parent} and the next run does the work again "
            f"({duckdb_message})"
        )


class MigrationError(WarehouseError):
    """The migration files or the migrations recorded in the database are inconsistent."""


class ChecksumMismatchError(MigrationError):
    """A migration already applied to the database was edited afterwards."""


class SchemaBehindError(MigrationError):
    """A read-only connection found migrations not yet applied: open it read-write once first."""
