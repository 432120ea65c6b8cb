"""A second process holding the DuckDB file: connect waits with back-off, or names the holder."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ctwatch import warehouse

HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


@contextmanager
def held_by_other_process(path: Path, hold_s: float) -> Iterator[subprocess.Popen[str]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(hold_s)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_connect_waits_for_another_process_to_release(warehouse_file: Path) -> None:
    warehouse.connect(warehouse_file).close()
    with held_by_other_process(warehouse_file, hold_s=1.0):
        started = time.monotonic()
        con = warehouse.connect(warehouse_file, read_only=True, lock_timeout_s=30)
        waited_s = time.monotonic() - started
        con.close()
    assert 0.3 < waited_s < 15


def test_lock_timeout_names_file_and_holder(warehouse_file: Path) -> None:
    warehouse.connect(warehouse_file).close()
    with held_by_other_process(warehouse_file, hold_s=30) as holder:
        started = time.monotonic()
        with pytest.raises(warehouse.WarehouseLockedError) as raised:
            warehouse.connect(warehouse_file, lock_timeout_s=0.5)
        waited_s = time.monotonic() - started
    assert 0.5 <= waited_s < 5
    assert str(warehouse_file) in str(raised.value)
    assert f"PID {holder.pid}" in str(raised.value)
