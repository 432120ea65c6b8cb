"""The ingest_ct_logs DAG, run with dag.test() against the simulator started here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration
SMALL = REPO_ROOT / "include" / "ctwatch" / "sim" / "scenarios" / "small.toml"


def test_ingest_ct_logs_dag_covers_the_logs_and_finds_the_ocsp_signing_cas(
    airflow_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    warehouse_file = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CTWATCH_WAREHOUSE", str(warehouse_file))
    monkeypatch.setenv("CTWATCH_DATA_DIR", str(tmp_path / "data"))
    dag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "ingest_ct_logs.py")).dags["ingest_ct_logs"]
    with SimulatorRunning(load_scenario(SMALL), cache_dir=tmp_path / "sim-cache") as sim:
        conf = {
            "log_list": str(sim.write_log_list(tmp_path / "log_list.json")),
            "new_logs_start": "origin",
            "min_range_entries": 1000,
            "requests_per_second": 1000.0,
        }
        run = dag.test(logical_date=datetime(2026, 11, 27, 12, tzinfo=UTC), run_conf=conf)
        assert run.state == "success"
        fetches = [ti for ti in run.get_task_instances() if ti.task_id == "fetch"]
        assert len(fetches) == 6  # ~2950 entries per log in ranges of 1000 (static-ct: 1024)

        truth = sim.world.ground_truth()
        con = warehouse.connect(warehouse_file, read_only=True)
        try:
            for log in sim.world.logs.values():
                covered = con.execute(
                    "SELECT sum(end_exclusive - start_index), max(end_exclusive) FROM ct_log_coverage"
                    " WHERE log_id = $log",
                    {"log": log.log_id.hex()},
                ).fetchall()
                assert covered == [(log.size, log.size)]
            flagged = {
                ca["der_sha256"]
                for ca in truth["ca_certificates"]
                if ca["ocsp_signing"] and not ca["ocsp_nocheck"]
            }
            found = {
                sha
                for (sha,) in con.execute(
                    "SELECT der_sha256 FROM rule_findings WHERE rule_id = $rule",
                    {"rule": "e_ca_ocsp_signing_eku_without_nocheck"},
                ).fetchall()
            }
            stored = {sha for (sha,) in con.execute("SELECT der_sha256 FROM certificates").fetchall()}
            assert flagged
            assert flagged <= stored
            assert found == flagged
            coverage_rows = con.execute("SELECT count(*) FROM ct_log_coverage").fetchall()
        finally:
            con.close()

        # A second run finds nothing new to fetch.
        again = dag.test(logical_date=datetime(2026, 11, 27, 12, 15, tzinfo=UTC), run_conf=conf)
        assert again.state == "success"
        # Zero ranges planned: the mapped fetch task is expanded to nothing and skipped.
        assert {ti.state for ti in again.get_task_instances() if ti.task_id == "fetch"} <= {"skipped"}
        con = warehouse.connect(warehouse_file, read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM ct_log_coverage").fetchall() == coverage_rows
        finally:
            con.close()
