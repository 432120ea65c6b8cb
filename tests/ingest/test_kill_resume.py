"""kill -9 at random moments of a real ingestion process, then resume: no gap, no duplicate."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.ingest import load_ranges
from ctwatch.sim.server import SimulatorRunning
from tests.conftest import REPO_ROOT
from tests.ingest.conftest import (
    AS_OF,
    ca_spki,
    earliest_sightings,
    fast_config,
    rows,
    staged_ranges,
    stored_sightings,
    truth,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KILLS = 5


def _command(warehouse_file: Path, log_list: Path, config: Path, watched: list[str]) -> list[str]:
    config.write_text(
        "[ct]\n"
        f"log_list = {json.dumps(str(log_list))}\n"
        'new_logs_start = "origin"\n'
        "min_range_entries = 100\n"  # ~60 ranges: many transactions to interrupt
        "requests_per_second = inf\n"
        f"watched_spki_sha256 = {json.dumps(watched)}\n",
        encoding="utf-8",
    )
    return [
        sys.executable, "-m", "ctwatch", "--config", str(config),
        "ct", "ingest", "--warehouse", str(warehouse_file),
    ]  # fmt: skip


def _wait_until_planned(process: subprocess.Popen[str]) -> None:
    """Read the run's progress log (stderr) until it has planned its ranges."""
    assert process.stderr is not None
    for line in process.stderr:
        if "planned" in line:
            return


def _covered_entries(warehouse_file: Path) -> int:
    if not warehouse_file.exists():
        return 0
    con = warehouse.connect(warehouse_file)  # read-write: replays what the killed process committed
    try:
        return int(
            rows(con, "SELECT coalesce(sum(end_exclusive - start_index), 0) FROM ct_log_coverage")[0][0]
        )
    finally:
        con.close()


def test_killed_runs_resume_without_gap_or_duplicate(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    world = sim.world
    warehouse_file = tmp_path / "w.duckdb"
    # Every issuer watched: every entry must end up as exactly one leaf row.
    command = _command(
        warehouse_file, log_list, tmp_path / "ctwatch.toml", sorted(set(ca_spki(world).values()))
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "include"), str(REPO_ROOT / "plugins")]),
    }
    rng = random.Random(4)  # reproducible kill points
    delays = []
    for _ in range(KILLS):
        delay_s = rng.uniform(0.0, 2.0)
        process = subprocess.Popen(
            [*command[:3], "-v", *command[3:]],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_until_planned(
            process
        )  # then a random moment of fetching and loading, whatever the start-up took
        time.sleep(delay_s)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        delays.append((round(delay_s, 2), process.returncode, _covered_entries(warehouse_file)))
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stderr
    total = sum(log.size for log in world.logs.values())
    # At least one kill interrupted a run that had stored part of the logs, not only its start-up.
    assert any(code == -signal.SIGKILL and 0 < covered < total for _, code, covered in delays), delays

    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        for name, log in world.logs.items():
            log_id = log.log_id.hex()
            stored = rows(
                con,
                "SELECT entry_index, leaf_hash, issuer_spki_sha256, precert FROM ct_leaves"
                " WHERE log_id = $log ORDER BY entry_index",
                {"log": log_id},
            )
            expected = [(e.index, e.leaf_hash, e.issuer_spki_sha256, e.precert) for e in truth(world, name)]
            assert stored == expected, f"{name}: leaves differ from the ground truth (kills: {delays})"
            covered = rows(
                con,
                "SELECT start_index, end_exclusive FROM ct_log_coverage WHERE log_id = $log ORDER BY 1",
                {"log": log_id},
            )
            assert covered[0][0] == 0
            assert covered[-1][1] == log.size
            assert all(a[1] == b[0] for a, b in itertools.pairwise(covered)), covered
            assert rows(
                con, "SELECT sum(entries) FROM ct_issuer_daily_counts WHERE log_id = $log", {"log": log_id}
            ) == [(log.size,)]
        assert rows(con, "SELECT count(*) = count(DISTINCT der_sha256) FROM certificates") == [(True,)]
        # first CT times: the earliest entry per certificate and log, however the kills split the load
        assert stored_sightings(con) == earliest_sightings(world)
        sightings = rows(con, "SELECT * FROM certificate_ct_sightings ORDER BY ALL")
    finally:
        con.close()

    # A run after completion plans nothing.
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(again.stdout)["ranges_planned"] == 0
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        assert rows(con, "SELECT * FROM certificate_ct_sightings ORDER BY ALL") == sightings
    finally:
        con.close()


def test_a_load_retried_after_its_commit_finds_its_files_gone_and_loads_nothing_twice(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    """A load killed after its commit (which deletes the staged files and the run's folder) is
    retried by Airflow with the same file paths."""
    config = fast_config(log_list)
    warehouse_file, run_dir = tmp_path / "w.duckdb", tmp_path / "run"
    staged = staged_ranges(config, warehouse_file, run_dir)
    first = load_ranges(warehouse_file, staged, as_of=AS_OF, run_dir=run_dir)
    assert first.ranges_loaded == len(staged)
    assert not run_dir.exists()

    retried = load_ranges(warehouse_file, staged, as_of=AS_OF, run_dir=run_dir)

    assert (retried.ranges_loaded, retried.entries) == (0, 0)
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        leaves = rows(con, "SELECT count(*), count(DISTINCT (log_id, entry_index)) FROM ct_leaves")[0]
    finally:
        con.close()
    assert leaves[0] == leaves[1] == first.leaf_rows
