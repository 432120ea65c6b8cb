"""Coverage: planned ranges, following a growing log from its head, failed ranges left for later."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.ingest import START_AT_HEAD, ingest_once, split_gaps, uncovered
from ctwatch.sim.scenario import Fault, FaultKind
from ctwatch.sim.server import SimulatorRunning
from tests.ingest.conftest import AS_OF, fast_config, rows


def test_uncovered_gaps() -> None:
    assert uncovered(0, 100, []) == [(0, 100)]
    assert uncovered(0, 100, [(20, 30), (0, 10), (90, 120)]) == [(10, 20), (30, 90)]
    assert uncovered(50, 60, [(0, 55)]) == [(55, 60)]
    assert uncovered(50, 60, [(0, 100)]) == []


def test_split_keeps_plans_within_the_mapping_limit() -> None:
    # A backlog of three billion entries over two logs still fits in 512 ranges.
    planned = split_gaps({0: [(0, 2_000_000_000)], 1: [(5, 1_000_000_005)]}, max_ranges=512)
    assert len(planned) <= 512
    for log_position, start, end in ((0, 0, 2_000_000_000), (1, 5, 1_000_000_005)):
        mine = [r for r in planned if r.log_position == log_position]
        assert mine[0].start == start
        assert mine[-1].end_exclusive == end
        assert all(a.end_exclusive == b.start for a, b in itertools.pairwise(mine))
    # Small backlogs use the minimum range size; static-ct ranges are cut at tile boundaries.
    small = split_gaps({0: [(100, 1000)]}, min_range_entries=300, alignment={0: 256})
    assert [(r.start, r.end_exclusive) for r in small] == [(100, 512), (512, 1000)]
    # Too fragmented: the first ranges of each log in turn, the rest left for the next run.
    fragmented = split_gaps({0: [(i * 10, i * 10 + 1) for i in range(100)], 1: [(0, 1)]}, max_ranges=3)
    assert [(r.log_position, r.start) for r in fragmented] == [(0, 0), (1, 0), (0, 10)]


@pytest.mark.integration
def test_live_monitoring_starts_at_the_head_and_follows_it(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    argon = sim.world.logs["sim-argon"]
    first_as_of = datetime(2020, 7, 1, tzinfo=UTC)
    later = datetime(2020, 7, 20, tzinfo=UTC)
    first_size = argon.size_as_of(int(first_as_of.timestamp() * 1000))
    later_size = argon.size_as_of(int(later.timestamp() * 1000))
    assert 0 < first_size < later_size < argon.size
    warehouse_file = tmp_path / "w.duckdb"
    only_argon = (argon.log_id.hex(),)

    config = fast_config(
        log_list, new_logs_start=START_AT_HEAD, log_ids=only_argon, request_as_of=first_as_of
    )
    first = ingest_once(warehouse_file, config, tmp_path / "run1", as_of=AS_OF)
    assert (first.ranges_planned, first.entries) == (0, 0)

    config = fast_config(log_list, new_logs_start=START_AT_HEAD, log_ids=only_argon, request_as_of=later)
    second = ingest_once(warehouse_file, config, tmp_path / "run2", as_of=AS_OF)
    assert second.entries == later_size - first_size

    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        assert rows(con, "SELECT follow_from_index, first_tree_size FROM ct_log_follow") == [
            (first_size, first_size)
        ]
        covered = rows(con, "SELECT start_index, end_exclusive, tree_size FROM ct_log_coverage ORDER BY 1")
        assert covered[0][0] == first_size
        assert covered[-1][1] == later_size
        assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))
        assert {size for _, _, size in covered} == {later_size}
        assert rows(con, "SELECT tree_size FROM ct_tree_heads ORDER BY 1") == [(first_size,), (later_size,)]
        assert rows(con, "SELECT sum(entries) FROM ct_issuer_daily_counts") == [(later_size - first_size,)]
    finally:
        con.close()


@pytest.mark.integration
def test_a_range_that_does_not_verify_is_left_uncovered_then_filled(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    argon = sim.world.logs["sim-argon"]
    warehouse_file = tmp_path / "w.duckdb"
    config = fast_config(log_list, log_ids=(argon.log_id.hex(),))
    # The first get-entries answer has a corrupted certificate: its leaf hash no longer matches.
    sim.set_faults("sim-argon", [Fault(FaultKind.CORRUPT_DER, first=1, endpoints=frozenset({"get-entries"}))])
    first = ingest_once(warehouse_file, config, tmp_path / "run1", as_of=AS_OF)
    assert first.ranges_failed == 1
    assert first.entries == argon.size - 500  # the first range, [0, 500), is not stored
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        assert rows(con, "SELECT min(start_index) FROM ct_log_coverage") == [(500,)]
        assert rows(con, "SELECT count(*) FROM ct_leaves WHERE entry_index < 500") == [(0,)]
    finally:
        con.close()

    second = ingest_once(warehouse_file, config, tmp_path / "run2", as_of=AS_OF)
    assert (second.ranges_failed, second.entries) == (0, 500)
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        covered = rows(con, "SELECT start_index, end_exclusive FROM ct_log_coverage ORDER BY 1")
        assert covered[0][0] == 0
        assert covered[-1][1] == argon.size
        assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))
        assert rows(con, "SELECT sum(entries) FROM ct_issuer_daily_counts") == [(argon.size,)]
        assert rows(con, "SELECT count(*) = count(DISTINCT entry_index) FROM ct_leaves") == [(True,)]
    finally:
        con.close()


@pytest.mark.integration
def test_a_head_inconsistent_with_the_stored_one_is_not_followed(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    argon = sim.world.logs["sim-argon"]
    warehouse_file = tmp_path / "w.duckdb"
    early = datetime(2020, 7, 1, tzinfo=UTC)
    config = fast_config(log_list, log_ids=(argon.log_id.hex(),), request_as_of=early)
    ingest_once(warehouse_file, config, tmp_path / "run1", as_of=AS_OF)
    # Now the log serves a validly signed head of a forked tree: nothing may be planned against it.
    sim.set_faults("sim-argon", [Fault(FaultKind.INCONSISTENT_TREE, every=1)])
    later = ingest_once(
        warehouse_file, fast_config(log_list, log_ids=(argon.log_id.hex(),)), tmp_path / "run2", as_of=AS_OF
    )
    assert (later.ranges_planned, later.entries) == (0, 0)
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        early_size = argon.size_as_of(int(early.timestamp() * 1000))
        assert rows(con, "SELECT max(end_exclusive) FROM ct_log_coverage") == [(early_size,)]
        assert rows(con, "SELECT max(tree_size) FROM ct_tree_heads") == [(early_size,)]
        # The refusal is kept as evidence: the proof does not give back the stored root.
        assert rows(
            con, "SELECT kind, tree_size, previous_tree_size, expected_hex FROM ct_verification_failures"
        ) == [("consistency", argon.size, early_size, argon.tree.root(early_size).hex())]
    finally:
        con.close()
