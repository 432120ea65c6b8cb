"""Evidence of what ingestion refused: one ct_verification_failures row per refused head or range,
with what was expected and what was served, and no coverage for it. Static-ct heads are proven
consistent with the stored head like RFC 6962 heads."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ctwatch import warehouse
from ctwatch.ingest import ingest_once
from ctwatch.sim.scenario import Fault, FaultKind
from ctwatch.sim.server import SimulatorRunning
from tests.ingest.conftest import AS_OF, fast_config, rows

pytestmark = pytest.mark.integration

RFC6962_LOG = "sim-argon"
STATIC_LOG = "sim-tiles"
_FAILURE_COLUMNS = (
    "kind, observed_at, tree_size, previous_tree_size, start_index, end_exclusive,"
    " expected_hex, served_hex, detail"
)


def _failures(warehouse_file: Path) -> list[dict[str, Any]]:
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        found = rows(con, f"SELECT {_FAILURE_COLUMNS} FROM ct_verification_failures ORDER BY observed_at")
    finally:
        con.close()
    names = [name.strip() for name in _FAILURE_COLUMNS.split(",")]
    return [dict(zip(names, row, strict=True)) for row in found]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.mark.parametrize("log_name", [RFC6962_LOG, STATIC_LOG])
def test_a_head_with_a_bad_signature_leaves_one_row_and_no_coverage(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path, log_name: str
) -> None:
    ct_log = sim.world.logs[log_name]
    as_of = datetime(2020, 7, 20, tzinfo=UTC)
    sim.set_faults(log_name, [Fault(FaultKind.BAD_STH_SIGNATURE, first=1)])
    warehouse_file = tmp_path / "w.duckdb"
    config = fast_config(log_list, log_ids=(ct_log.log_id.hex(),), request_as_of=as_of)
    summary = ingest_once(warehouse_file, config, tmp_path / "run", as_of=AS_OF)

    assert (summary.ranges_planned, summary.entries) == (0, 0)
    [failure] = _failures(warehouse_file)
    assert failure["kind"] == "tree_head_signature"
    assert failure["observed_at"] == as_of  # a simulator answer: stamped with the as-of it represents
    assert failure["tree_size"] is None  # never trusted
    # Expected: a signature by the log key (its SHA-256 is the LogID); served: the head as received.
    assert failure["expected_hex"] == hashlib.sha256(ct_log.public_key_der).hexdigest() == ct_log.log_id.hex()
    served = bytes.fromhex(failure["served_hex"])
    if log_name == RFC6962_LOG:
        assert json.loads(served)["tree_size"] == ct_log.size_as_of(_ms(as_of))
    else:
        assert served.startswith(sim.simulator.origin(ct_log).encode() + b"\n")
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        assert rows(con, "SELECT count(*) FROM ct_log_coverage") == [(0,)]
        assert rows(con, "SELECT count(*) FROM ct_tree_heads") == [(0,)]
    finally:
        con.close()


@pytest.mark.parametrize(("log_name", "endpoint"), [(RFC6962_LOG, "get-entries"), (STATIC_LOG, "data-tile")])
def test_a_corrupt_entry_leaves_one_range_proof_row_and_its_range_uncovered(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path, log_name: str, endpoint: str
) -> None:
    ct_log = sim.world.logs[log_name]
    sim.set_faults(log_name, [Fault(FaultKind.CORRUPT_DER, first=1, endpoints=frozenset({endpoint}))])
    warehouse_file = tmp_path / "w.duckdb"
    config = fast_config(log_list, log_ids=(ct_log.log_id.hex(),), concurrency=1)
    summary = ingest_once(warehouse_file, config, tmp_path / "run1", as_of=AS_OF)

    assert summary.ranges_failed == 1
    [failure] = _failures(warehouse_file)
    assert failure["kind"] == "range_proof"
    assert failure["tree_size"] == ct_log.size
    assert failure["start_index"] == 0
    assert len(bytes.fromhex(failure["served_hex"])) == 32
    if log_name == RFC6962_LOG:
        # get-proof-by-hash finds no leaf with the served entry's hash: that hash is the evidence
        assert failure["expected_hex"] is None
        assert failure["served_hex"] != ct_log.leaf_hash(0).hex()
        assert "served entry 0" in failure["detail"]
    else:
        # the tiles' leaf hashes fold into another root than the verified checkpoint's
        assert failure["expected_hex"] == ct_log.tree.root(ct_log.size).hex()
        assert failure["served_hex"] != failure["expected_hex"]
    assert summary.entries == ct_log.size - failure["end_exclusive"]
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        assert rows(con, "SELECT min(start_index), max(end_exclusive) FROM ct_log_coverage") == [
            (failure["end_exclusive"], ct_log.size)
        ]
        assert rows(
            con, "SELECT count(*) FROM ct_leaves WHERE entry_index < $end", {"end": failure["end_exclusive"]}
        ) == [(0,)]
    finally:
        con.close()

    # The log behaves again: the range is filled, and no new evidence appears.
    again = ingest_once(warehouse_file, config, tmp_path / "run2", as_of=AS_OF)
    assert (again.ranges_failed, again.entries) == (0, failure["end_exclusive"])
    assert len(_failures(warehouse_file)) == 1


def test_static_heads_are_followed_only_while_the_tiles_prove_them_consistent(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    tiles = sim.world.logs[STATIC_LOG]
    early, later = datetime(2020, 7, 1, tzinfo=UTC), datetime(2020, 7, 20, tzinfo=UTC)
    early_size, later_size = tiles.size_as_of(_ms(early)), tiles.size_as_of(_ms(later))
    assert 0 < early_size < later_size < tiles.size
    assert early_size % 256  # the stored head ends inside a tile
    warehouse_file = tmp_path / "w.duckdb"
    only_tiles = (tiles.log_id.hex(),)

    def run(name: str, request_as_of: datetime | None) -> int:
        config = fast_config(log_list, log_ids=only_tiles, request_as_of=request_as_of)
        return ingest_once(warehouse_file, config, tmp_path / name, as_of=AS_OF).entries

    assert run("early", early) == early_size
    assert run("later", later) == later_size - early_size  # honest growth: proven, followed
    assert _failures(warehouse_file) == []

    # A validly signed checkpoint of a forked tree: the tiles of the published tree do not give it.
    sim.set_faults(STATIC_LOG, [Fault(FaultKind.INCONSISTENT_TREE, every=1)])
    assert run("forked", None) == 0
    [failure] = _failures(warehouse_file)
    assert failure["kind"] == "consistency"
    assert (failure["previous_tree_size"], failure["tree_size"]) == (later_size, tiles.size)
    assert failure["served_hex"] == tiles.tree.root(tiles.size).hex()  # what the tiles compute to
    assert failure["expected_hex"] != failure["served_hex"]  # the forked checkpoint's root
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        assert rows(con, "SELECT max(end_exclusive) FROM ct_log_coverage") == [(later_size,)]
        assert rows(con, "SELECT max(tree_size) FROM ct_tree_heads") == [(later_size,)]
    finally:
        con.close()
