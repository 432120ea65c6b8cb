"""The README's backfill recipe, as written, over a window of 2020 on the simulated world, while
ctwatch's Airflow runs: ingest_ct_logs ingests the CT entries of the window (its backfill bisects
each interval) and evaluate_rules evaluates the rules as of the window, though both DAGs' live
schedule is 2026 (they start in 2013)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from ctwatch_airflow.launcher import (
    admin_password,
    airflow_environment,
    configured_layout,
    prepare,
    start_components,
    stop_components,
    wait_healthy,
)
from ctwatch_airflow.rest_api import Api
from tests.conftest import REPO_ROOT
from tests.ingest.conftest import SMALL, truth
from tests.readme import shell_lines

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RULE = "e_ca_ocsp_signing_eku_without_nocheck"
BACKFILLED = ("ingest_ct_logs", "evaluate_rules")
TIMEOUT_S = 600


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatorRunning]:
    with SimulatorRunning(load_scenario(SMALL), cache_dir=tmp_path / "sim-cache", port=0) as running:
        yield running


def _window(sim: SimulatorRunning, log_name: str) -> tuple[datetime, datetime, str]:
    """The first hour of 2020-07 holding an entry issued by a CA with the OCSP EKU and no nocheck,
    and that CA's certificate."""
    flagged = {
        ca["spki_sha256"]: ca["der_sha256"]
        for ca in sim.world.ground_truth()["ca_certificates"]
        if ca["ocsp_signing"] and not ca["ocsp_nocheck"] and ca["kind"] != "root"
    }
    july = datetime(2020, 7, 1, tzinfo=UTC).timestamp() * 1000
    entry = next(
        e for e in truth(sim.world, log_name) if e.issuer_spki_sha256 in flagged and e.timestamp_ms >= july
    )
    start = datetime.fromtimestamp(entry.timestamp_ms / 1000, UTC).replace(minute=0, second=0, microsecond=0)
    return start, start + timedelta(hours=1), flagged[entry.issuer_spki_sha256]


def test_the_readme_backfill_recipe_ingests_ct_and_evaluates_rules_for_2020(
    sim: SimulatorRunning, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "ctwatch.toml"
    config.write_text(
        sim.config_toml(f"{sim.base_url}/log_list.json").replace('new_logs_start = "origin"', "")
    )
    start, end, flagged_ca = _window(sim, "sim-argon")
    monkeypatch.setenv("CTWATCH_CONFIG", str(config))
    monkeypatch.setenv("CTWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CTWATCH_AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("CTWATCH_PORT", str(_free_port()))
    # only the backfills run: no live run as of today next to them
    monkeypatch.setenv("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "False")
    monkeypatch.delenv("AIRFLOW_HOME")
    layout = configured_layout(int(os.environ["CTWATCH_PORT"]))
    assert layout is not None
    env = airflow_environment(layout, os.environ)
    prepare(layout, env)
    processes = start_components(layout, env)
    try:
        assert wait_healthy(layout, processes), "Airflow did not come up"
        api = Api(layout.base_url, admin_password(layout))
        _wait(
            lambda: set(BACKFILLED) <= api.dags_parsed_since(datetime(2000, 1, 1, tzinfo=UTC)), "DAGs parsed"
        )
        assert api.import_errors() == []
        recipe = [
            line for line in shell_lines("Backfilling a past incident") if any(d in line for d in BACKFILLED)
        ]
        assert len(recipe) == 2
        shell_env = {**os.environ, "FROM": start.isoformat(), "TO": (end - timedelta(minutes=15)).isoformat()}
        for dag_id, line in zip(BACKFILLED, recipe, strict=True):  # each once the one before completed
            done = subprocess.run(
                ["bash", "-c", line],
                cwd=REPO_ROOT,
                env=shell_env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            backfill_id = max(api.backfill_ids(dag_id))
            _wait(lambda b=backfill_id: api.backfill(b)["completed_at"] is not None, f"{dag_id} backfill")
    finally:
        stop_components(processes)

    argon = sim.world.logs["sim-argon"]
    in_window = [
        e.index for e in truth(sim.world, "sim-argon")
        if start.timestamp() * 1000 <= e.timestamp_ms < end.timestamp() * 1000
    ]  # fmt: skip
    con = warehouse.connect(tmp_path / "data" / "warehouse.duckdb", read_only=True)
    try:
        covered = con.execute(
            "SELECT start_index, end_exclusive FROM ct_log_coverage WHERE log_id = $id",
            {"id": argon.log_id.hex()},
        ).fetchall()
        finding = con.execute(
            "SELECT max(evaluated_as_of) FROM rule_findings WHERE der_sha256 = $sha AND rule_id = $rule",
            {"sha": flagged_ca, "rule": RULE},
        ).fetchone()
    finally:
        con.close()
    assert in_window
    assert all(any(low <= i < high for low, high in covered) for i in in_window)
    # evaluate_rules' last backfill run answers as of the window's end
    assert finding == (end,)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(done: Callable[[], bool], what: str) -> None:
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < TIMEOUT_S, f"{what}: not after {TIMEOUT_S} s"
        time.sleep(3)
