"""The evaluate_rules DAG, run with dag.test() over real certificates in a real warehouse."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.ingest.certificate_files import import_certificate_files
from tests.conftest import FIXTURES, REPO_ROOT

pytestmark = pytest.mark.integration
CA_CERTS = FIXTURES / "real" / "ca_certs"


def _findings(warehouse_file: Path) -> dict[tuple[str, str], datetime]:
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        rows = con.execute(
            "SELECT der_sha256, rule_id, timezone('UTC', evaluated_as_of) FROM rule_findings"
        ).fetchall()
    finally:
        con.close()
    return {(sha, rule): as_of.replace(tzinfo=UTC) for sha, rule, as_of in rows}


# a live run, and a run of a past incident's period (`airflow dags test evaluate_rules 2021-05-01`)
@pytest.mark.parametrize(
    "logical_date", [datetime(2026, 11, 27, 12, tzinfo=UTC), datetime(2021, 5, 1, tzinfo=UTC)]
)
def test_evaluate_rules_dag_records_findings_as_of_the_interval_end(
    airflow_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logical_date: datetime
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    warehouse_file = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CTWATCH_WAREHOUSE", str(warehouse_file))
    imported = import_certificate_files(warehouse_file, sorted(CA_CERTS.rglob("*.pem")))
    assert imported.certificates == 50

    dag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "evaluate_rules.py")).dags["evaluate_rules"]
    run = dag.test(logical_date=logical_date)
    assert run.state == "success"
    assert [ti.state for ti in run.get_task_instances()] == ["success"]  # a run with tasks

    findings = _findings(warehouse_file)
    positives = {p.name.split("_")[0] for p in (CA_CERTS / "ocsp_eku_positive").glob("*.pem")}
    flagged = {sha[:16] for sha, rule in findings if rule == "e_ca_ocsp_signing_eku_without_nocheck"}
    assert flagged == positives
    assert set(findings.values()) == {run.data_interval_end}

    # A second run for the same interval changes nothing.
    dag.test(logical_date=logical_date)
    assert _findings(warehouse_file) == findings


def test_a_run_triggered_without_a_logical_date_answers_as_of_its_trigger_time(
    airflow_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow 3 triggers manual runs without a logical date, hence without a data interval."""
    from airflow.dag_processing.dagbag import DagBag

    warehouse_file = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CTWATCH_WAREHOUSE", str(warehouse_file))
    import_certificate_files(warehouse_file, sorted((CA_CERTS / "ocsp_eku_positive").glob("*.pem")))
    dag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "evaluate_rules.py")).dags["evaluate_rules"]
    for task in dag.tasks:
        task.retries = 0  # a failure fails now instead of after the retry delays

    run = dag.test(logical_date=None)

    assert run.state == "success"
    assert (run.logical_date, run.data_interval_end) == (None, None)
    assert set(_findings(warehouse_file).values()) == {run.run_after}
