"""The evaluate_compliance DAG, run with dag.test() over a warehouse with one OCSP-EKU finding."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctwatch import evaluate, warehouse
from ctwatch.dashboard.reader import open_snapshot
from ctwatch.dashboard.snapshot import snapshot_path
from tests.conftest import REPO_ROOT
from tests.crl.factory import Ca
from tests.evaluate.conftest import World, revoked, root_ca, utc

pytestmark = pytest.mark.integration
JPRS = "a1" * 32
__all__ = ["root_ca"]  # the evaluate tests' root CA fixture


def test_evaluate_compliance_dag_judges_as_of_the_interval_end(
    airflow_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root_ca: Ca
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    warehouse_file = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CTWATCH_WAREHOUSE", str(warehouse_file))
    monkeypatch.setenv("CTWATCH_DATA_DIR", str(tmp_path))
    con = warehouse.connect(warehouse_file)
    world = World.start(con, tmp_path, root_ca)
    world.add_cert(JPRS, spki="ee" * 32, serial=0x1A)
    world.ccadb({JPRS: "JPRS"})
    # seen without it 2020-07-20, listed 06:00 that day: published late (the packaged incident's
    # publication deadline is 2020-07-09T00:00Z)
    world.crl(utc(2020, 7, 20))
    world.crl(utc(2020, 7, 20, 6), [revoked(0x1A, utc(2020, 7, 5))])
    con.close()

    dag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "evaluate_compliance.py")).dags["evaluate_compliance"]
    logical_date = datetime(2020, 7, 25, 12, tzinfo=UTC)
    # A backfill asking for reports from a later interval: evaluated, no report written
    run = dag.test(logical_date=logical_date, run_conf={"reports_from": "2020-07-25T12:00:01Z"})
    assert run.state == "success"
    assert not (tmp_path / "reports").exists()
    assert not (tmp_path / "dashboard").exists()
    run = dag.test(logical_date=logical_date)
    assert run.state == "success"
    as_of = run.data_interval_end
    assert as_of == logical_date  # the interval ends at the logical date
    index = (tmp_path / "reports" / "index.md").read_text()
    assert index.startswith("# ctwatch reports as of 2020-07-25 12:00 UTC")
    with open_snapshot(snapshot_path(tmp_path)) as dashboard:  # what the Compliance pages read
        assert dashboard is not None
        assert dashboard.meta()["evaluated_as_of"] == "2020-07-25T12:00:00Z"
        (shown,) = dashboard.certificates("ocsp-eku-2020:SECOM Trust Systems")
        assert (shown["der_sha256"], shown["status"]) == (JPRS, "revoked_late")

    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        (verdict,) = evaluate.verdicts(con, as_of)
        outbox = con.execute("SELECT count(*) FROM alert_outbox").fetchone()
    finally:
        con.close()
    assert (verdict.status, verdict.incident_id) == (
        evaluate.Status.REVOKED_LATE,
        "ocsp-eku-2020:SECOM Trust Systems",
    )

    dag.test(logical_date=logical_date)  # a re-run of the same interval changes nothing
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        assert evaluate.verdicts(con, as_of) == [verdict]
        assert con.execute("SELECT count(*) FROM alert_outbox").fetchone() == outbox
    finally:
        con.close()
