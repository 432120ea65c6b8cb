"""CT logs as sources (a check per log and run), and new_logs_start on a log already followed:
refused with the way to the older entries, which `extend_back` then opens."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.ingest import START_AT_HEAD, START_AT_ORIGIN, ingest_once
from ctwatch.ingest.follow import FollowError, extend_back
from ctwatch.ingest.model import TREE_HEAD_SIGNATURE
from ctwatch.ingest.plan import FollowStartError
from ctwatch.sim.scenario import Fault, FaultKind
from ctwatch.sim.server import SimulatorRunning
from tests.ingest.conftest import AS_OF, fast_config, rows

pytestmark = pytest.mark.integration
FIRST = datetime(2020, 7, 1, tzinfo=UTC)
LATER = datetime(2020, 7, 20, tzinfo=UTC)


def _checks(warehouse_file: Path) -> list[tuple[str, bool, str | None]]:
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        return rows(
            con, "SELECT target, ok, failure FROM source_checks WHERE source = 'ct' ORDER BY checked_at"
        )
    finally:
        con.close()


def test_origin_on_a_log_followed_from_its_head_is_refused_until_extended_back(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    argon = sim.world.logs["sim-argon"]
    log_id = argon.log_id.hex()
    first_size = argon.size_as_of(int(FIRST.timestamp() * 1000))
    later_size = argon.size_as_of(int(LATER.timestamp() * 1000))
    warehouse_file = tmp_path / "w.duckdb"
    head = fast_config(log_list, new_logs_start=START_AT_HEAD, log_ids=(log_id,), request_as_of=FIRST)
    assert ingest_once(warehouse_file, head, tmp_path / "run1", as_of=AS_OF).entries == 0

    origin = fast_config(log_list, new_logs_start=START_AT_ORIGIN, log_ids=(log_id,), request_as_of=LATER)
    with pytest.raises(FollowStartError) as refused:
        ingest_once(warehouse_file, origin, tmp_path / "run2", as_of=AS_OF)
    message = str(refused.value)
    assert f"({log_id}) has been followed from index {first_size} since 2020-07-01" in message
    assert f"To ingest entries 0..{first_size - 1}: `ctwatch ct extend-back {log_id}`" in message

    assert extend_back(warehouse_file, log_id) == (first_size, 0)
    with pytest.raises(FollowError, match="already followed from index 0"):
        extend_back(warehouse_file, log_id)
    # the next run ingests the whole log up to its head as of then: every entry, once
    assert ingest_once(warehouse_file, origin, tmp_path / "run3", as_of=AS_OF).entries == later_size
    # covered from 0 now: origin is no longer refused
    assert ingest_once(warehouse_file, origin, tmp_path / "run4", as_of=AS_OF).entries == 0


def test_each_log_is_a_source_with_a_check_per_run(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    argon = sim.world.logs["sim-argon"]
    log_id = argon.log_id.hex()
    warehouse_file = tmp_path / "w.duckdb"
    config = fast_config(log_list, log_ids=(log_id,))
    # a head whose signature does not verify: the log failed this run, with the reason
    sim.set_faults("sim-argon", [Fault(FaultKind.BAD_STH_SIGNATURE, first=1)])
    ingest_once(warehouse_file, config, tmp_path / "run1", as_of=AS_OF)
    # caught up to its head: it answered
    ingest_once(warehouse_file, config, tmp_path / "run2", as_of=AS_OF)
    checks = _checks(warehouse_file)
    assert [(target, ok) for target, ok, _ in checks] == [(log_id, False), (log_id, True)]
    assert str(checks[0][2]).startswith(f"{TREE_HEAD_SIGNATURE}: ")


def test_a_log_whose_coverage_does_not_advance_is_a_failure(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    argon, second = sim.world.logs["sim-argon"], next(n for n in sim.world.logs if n != "sim-argon")
    ids = (argon.log_id.hex(), sim.world.logs[second].log_id.hex())
    warehouse_file = tmp_path / "w.duckdb"
    # one fetch task for two logs with entries: the first log advances, the second does not
    config = fast_config(log_list, log_ids=ids, min_range_entries=10**9, max_ranges=1)
    ingest_once(warehouse_file, config, tmp_path / "run1", as_of=AS_OF)
    by_log = {target: (ok, failure) for target, ok, failure in _checks(warehouse_file)}
    advanced = [log_id for log_id, (ok, _) in by_log.items() if ok]
    stuck = {log_id: failure for log_id, (ok, failure) in by_log.items() if not ok}
    assert len(advanced) == 1
    assert len(stuck) == 1
    (failure,) = stuck.values()
    assert "coverage did not advance" in str(failure)
