"""What DuckDB says when the warehouse's volume is full, named as WarehouseFullError: the messages are
the ones DuckDB 2.0 gave on a full tmpfs (tests/faults/test_resources.py fills one for real)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ctwatch.warehouse.connection import full_volume_of, naming_trouble
from ctwatch.warehouse.errors import WarehouseFullError

WAREHOUSE = Path("/srv/ctwatch/warehouse.duckdb")
COMMIT_FAILED = (
    'TransactionContext Error: Failed to commit: Could not write file "/srv/ctwatch/warehouse.duckdb.wal": '
    "No space left on device"
)
CHECKPOINT_FAILED = (
    "FATAL Error: Transaction COMMIT succeeded and is durable, but the autocheckpoint failed. Reopen the "
    'database instance to recover. Failed to create checkpoint because of error: Could not write file "'
    '/srv/ctwatch/warehouse.duckdb": No space left on device'
)


def test_a_commit_that_could_not_write_is_named_rolled_back() -> None:
    with pytest.raises(WarehouseFullError) as full, naming_trouble(WAREHOUSE):
        raise duckdb.TransactionException(COMMIT_FAILED)
    assert not full.value.committed
    assert str(full.value).startswith(
        f"warehouse {WAREHOUSE}: no space left on its volume (DuckDB writing {WAREHOUSE}.wal); "
        "the transaction that hit it was rolled back: nothing of it is stored."
    )


def test_a_durable_commit_whose_checkpoint_could_not_write_is_named_committed() -> None:
    error = full_volume_of(WAREHOUSE, duckdb.FatalException(CHECKPOINT_FAILED))
    assert error is not None
    assert error.committed
    assert "its last transaction is committed and durable" in str(error)


def test_a_rollback_refused_after_the_write_failed_still_names_the_full_volume() -> None:
    def rollback() -> None:  # what warehouse.transaction runs when the block raised
        raise duckdb.FatalException("FATAL Error: database has been invalidated")

    try:
        try:
            raise duckdb.IOException(f'IO Error: Could not write file "{WAREHOUSE}": No space left on device')
        except duckdb.IOException:
            rollback()
    except duckdb.FatalException as refused:
        error = full_volume_of(WAREHOUSE, refused)
    assert error is not None
    assert f"(DuckDB writing {WAREHOUSE})" in str(error)


def test_other_errors_are_not_taken_for_a_full_volume() -> None:
    assert full_volume_of(WAREHOUSE, duckdb.IOException('Could not set lock on file "x"')) is None
    assert full_volume_of(WAREHOUSE, OSError(28, "No space left on device")) is None
