"""Timestamp bisection finds the index range of a time window despite non-monotonic timestamps."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.ingest import bisect_window, ingest_once
from ctwatch.sim.server import SimulatorRunning
from tests.ingest.conftest import AS_OF, fast_config, rows

MMD_MS = 60_000


def _log(size: int, seed: int) -> list[int]:
    """Timestamps of a log that integrates each entry within the MMD, in integration order."""
    rng = random.Random(seed)
    integrated = sorted(rng.randrange(10_000_000) for _ in range(size))
    return [at - rng.randrange(MMD_MS) for at in integrated]


@pytest.mark.parametrize("seed", range(20))
def test_window_range_holds_every_entry_of_the_window(seed: int) -> None:
    timestamps = _log(3000, seed)
    rng = random.Random(seed)
    start = rng.randrange(-100_000, 10_000_000)
    end = start + rng.randrange(0, 3_000_000)
    found = bisect_window(timestamps.__getitem__, len(timestamps), start, end, MMD_MS)
    inside = [i for i, at in enumerate(timestamps) if start <= at < end]
    assert all(found.start <= i < found.end_exclusive for i in inside)
    # Tight: what lies outside the window is within two MMDs of it.
    extra = [
        timestamps[i] for i in range(found.start, found.end_exclusive) if not start <= timestamps[i] < end
    ]
    assert all(start - 2 * MMD_MS <= at < end + 2 * MMD_MS for at in extra)
    assert found.probes <= 2 * (len(timestamps).bit_length() + 1)


def test_empty_log_and_window_outside_the_log() -> None:
    assert bisect_window([].__getitem__, 0, 0, 10, MMD_MS).end_exclusive == 0
    timestamps = _log(100, 1)
    after = bisect_window(timestamps.__getitem__, 100, 50_000_000, 60_000_000, MMD_MS)
    assert after.start == after.end_exclusive == 100
    before = bisect_window(timestamps.__getitem__, 100, -5_000_000, -4_000_000, MMD_MS)
    assert before.start == before.end_exclusive == 0


@pytest.mark.integration
def test_backfill_ingests_the_window_found_in_the_simulated_log(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    window_start = datetime(2020, 7, 10, tzinfo=UTC)
    window_end = window_start + timedelta(days=5)
    config = fast_config(log_list, backfill_window=(window_start, window_end))
    warehouse_file = tmp_path / "w.duckdb"
    ingest_once(warehouse_file, config, tmp_path / "run", as_of=AS_OF)
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        for log in sim.world.logs.values():
            start_ms, end_ms = window_start.timestamp() * 1000, window_end.timestamp() * 1000
            mmd_ms = log.spec.mmd_s * 1000
            inside = [i for i in range(log.size) if start_ms <= log.record(i).timestamp_ms < end_ms]
            covered = rows(
                con,
                "SELECT start_index, end_exclusive FROM ct_log_coverage WHERE log_id = $log ORDER BY 1",
                {"log": log.log_id.hex()},
            )
            low, high = covered[0][0], covered[-1][1]
            assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))
            assert low <= inside[0]
            assert inside[-1] < high
            assert all(
                start_ms - 2 * mmd_ms <= log.record(i).timestamp_ms < end_ms + 2 * mmd_ms
                for i in range(low, high)
            )
    finally:
        con.close()
