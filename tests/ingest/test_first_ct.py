"""First CT time of chain certificates: per log the earliest entry carrying each one, whatever the
order ranges are loaded in, with the verified tree head covering that entry."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.ingest import ingest_once, load_ranges
from ctwatch.sim.server import SimulatorRunning
from ctwatch.warehouse import ct_store
from tests.ingest.conftest import (
    AS_OF,
    earliest_sightings,
    fast_config,
    rows,
    staged_ranges,
    stored_sightings,
)

ROOT = b"\x11" * 32


def _sighting(index: int, timestamp_ms: int, log_id: str = "aa", tree_size: int = 100) -> ct_store.CtSighting:
    return ct_store.CtSighting("c" * 64, log_id, index, timestamp_ms, tree_size, 5_000, ROOT)


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def test_the_earliest_sighting_wins_in_any_order(tmp_path: Path) -> None:
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        # a later range first; then an earlier timestamp at a higher index (CT timestamps are not
        # monotonic in the index), a tie broken by the index, another log, and a later one again
        ct_store.record_sightings(con, [_sighting(50, 3_000)])
        ct_store.record_sightings(con, [_sighting(60, 2_000, tree_size=200), _sighting(10, 2_500)])
        ct_store.record_sightings(con, [_sighting(55, 2_000), _sighting(7, 9_000, log_id="bb")])
        ct_store.record_sightings(con, [_sighting(1, 4_000)])
        stored = rows(
            con,
            "SELECT log_id, entry_index, entry_timestamp, tree_size, sth_timestamp, sth_root_hash"
            " FROM certificate_ct_sightings ORDER BY log_id",
        )
    finally:
        con.close()
    assert stored == [
        ("aa", 55, _ms(2_000), 100, _ms(5_000), ROOT.hex()),
        ("bb", 7, _ms(9_000), 100, _ms(5_000), ROOT.hex()),
    ]


@pytest.mark.integration
def test_ranges_loaded_newest_first_give_the_same_first_ct_times(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    world = sim.world
    expected = earliest_sightings(world)
    in_order = tmp_path / "in-order.duckdb"
    ingest_once(in_order, fast_config(log_list), tmp_path / "run1", as_of=AS_OF)

    # The same logs fetched range by range, then loaded newest first, one transaction each.
    newest_first = tmp_path / "newest-first.duckdb"
    staged = staged_ranges(fast_config(log_list), newest_first, tmp_path / "run2")
    assert len(staged) > len(world.logs)  # several ranges per log
    for path in reversed(staged):
        load_ranges(newest_first, [path], as_of=AS_OF)

    snapshots = []
    for warehouse_file in (in_order, newest_first):
        con = warehouse.connect(warehouse_file, read_only=True)
        try:
            assert stored_sightings(con) == expected
            # every sighting is covered by the verified head its range was proven against
            uncovered = rows(
                con,
                "SELECT s.* FROM certificate_ct_sightings AS s WHERE NOT EXISTS ("
                " SELECT 1 FROM ct_log_coverage AS c WHERE c.log_id = s.log_id"
                " AND s.entry_index >= c.start_index AND s.entry_index < c.end_exclusive"
                " AND c.tree_size = s.tree_size AND c.sth_root_hash = s.sth_root_hash"
                " AND c.sth_timestamp = s.sth_timestamp)",
            )
            assert uncovered == []
            snapshots.append(rows(con, "SELECT * FROM certificate_ct_sightings ORDER BY ALL"))
        finally:
            con.close()
    assert snapshots[0] == snapshots[1]
    # every stored chain certificate has its first CT time
    con = warehouse.connect(in_order, read_only=True)
    try:
        assert rows(
            con,
            "SELECT count(*) FROM certificates AS c WHERE NOT EXISTS"
            " (SELECT 1 FROM certificate_ct_sightings AS s WHERE s.der_sha256 = c.der_sha256)",
        ) == [(0,)]
    finally:
        con.close()
