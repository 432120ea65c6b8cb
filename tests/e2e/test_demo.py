"""`make demo` end to end, over a shorter period: the simulator, Airflow (scheduler, dag-processor,
API server) and `airflow backfill create` of the real DAGs, then the verdicts and alerts checked
against the verdicts july2020.toml declares for this replay (`expected_verdicts`, written by hand).

12 weekly intervals from 2020-06-15 cover the deadline (2020-07-08), on-time and late revocations,
the backdated one (published 2020-08-21) and certificates still open at the end. Then the same
demo with its Airflow metadata on the machine's PostgreSQL: the same output and reports.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ctwatch import warehouse
from ctwatch.demo import SCENARIO_FILE
from ctwatch.evaluate import read
from ctwatch.evaluate.model import Verdict
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.world import World
from tests.conftest import REPO_ROOT
from tests.declared import parse_delay
from tests.services import fresh_postgres_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

END = datetime(2020, 9, 7, tzinfo=UTC)  # 12 weekly intervals: the last as-of is END
DEMO_TIMEOUT_S = 600


def _run_demo(data: Path, **extra_env: str) -> dict[str, Any]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CTWATCH_AIRFLOW_DB"))},
        "CTWATCH_DEMO_DIR": str(data),
        "PYTHONPATH": f"{REPO_ROOT / 'include'}{os.pathsep}{REPO_ROOT / 'plugins'}",
        **extra_env,
    }
    argv = [
        sys.executable, "-m", "ctwatch_airflow.demo",
        "--from", "2020-06-15", "--to", "2020-09-07", "--interval", "7d",
    ]  # fmt: skip
    done = subprocess.run(
        argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=DEMO_TIMEOUT_S, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    world = World.load(load_scenario(SCENARIO_FILE), cache_dir=data / "sim-cache")
    con = warehouse.connect(data / "warehouse.duckdb", read_only=True)
    try:
        assert read.latest_evaluation(con, END) == END
        verdicts = read.verdicts(con, END)
    finally:
        con.close()
    replay = data / "alerts" / "replay.jsonl"
    alerts = [json.loads(line)["alert"]["event"] for line in replay.read_text().splitlines()]
    return {"output": done.stdout, "world": world, "verdicts": verdicts, "alerts": alerts, "data": data}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def demo_on_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with fresh_postgres_database() as url:
        yield _run_demo(tmp_path_factory.mktemp("demo-pg"), CTWATCH_AIRFLOW_DB=url)


def _expected(world: World) -> dict[str, dict[str, Any]]:
    """The verdicts july2020.toml declares for this replay, by der_sha256 of the certificate."""
    sha = {cert_id: cert.der_sha256 for cert_id, cert in world.ca_certs.items()}
    declared = tomllib.loads(SCENARIO_FILE.read_text(encoding="utf-8"))["expected_verdicts"]
    assert {e["as_of"] for e in declared} == {END}
    return {sha[e["cert"]]: e for e in declared}


def _by_cert(verdicts: list[Verdict]) -> dict[str, Verdict]:
    return {v.der_sha256: v for v in verdicts}


def test_the_demo_prints_the_owner_table_and_the_alerts(demo: dict[str, Any]) -> None:
    output = demo["output"]
    assert "July 2020 OCSP-EKU incident as of 2020-09-07" in output
    for owner in ("SECOM Trust Systems", "Sim DigiSign", "Sim Camerfirma", "Sim Prompt Trust"):
        assert owner in output
    assert "historical alerts" in output
    assert output.count("failed: none") == 3  # every run of the three backfills succeeded


def test_the_last_evaluation_run_wrote_the_reports(demo: dict[str, Any]) -> None:
    reports = demo["data"] / "reports"
    assert (reports / "index.md").read_text().startswith("# ctwatch reports as of 2020-09-07 00:00 UTC")
    folders = [p for p in reports.iterdir() if p.is_dir()]
    assert len(folders) >= 4
    expected = {"appendix.csv", "incident.md", "revocation_progress.png"}
    for folder in folders:
        assert expected <= {p.name for p in folder.iterdir()}
    assert f"index {reports / 'index.md'}" in demo["output"]


def test_every_disclosed_certificate_has_a_verdict(demo: dict[str, Any]) -> None:
    world = demo["world"]
    flagged = {
        cert["der_sha256"]
        for cert in world.ground_truth()["ca_certificates"]
        if cert["ocsp_signing"] and not cert["ocsp_nocheck"] and cert["kind"] != "root"
    }
    assert len(flagged) == 50
    assert set(_expected(world)) == flagged
    assert flagged <= {v.der_sha256 for v in demo["verdicts"]}


def test_verdicts_match_the_declared_truth(demo: dict[str, Any]) -> None:
    verdicts = _by_cert(demo["verdicts"])
    for der_sha256, expected in _expected(demo["world"]).items():
        verdict = verdicts[der_sha256]
        delay = parse_delay(expected.get("delay"))
        assert (verdict.status, verdict.basis, verdict.deadline, verdict.delay, verdict.delay_max) == (
            expected["status"],
            expected["basis"],
            expected["deadline"],
            delay,
            parse_delay(expected.get("delay_max")) or delay,
        ), f"{expected['cert']}: {verdict.basis_text}"


def test_the_alerts_raised_match_the_declared_transitions(demo: dict[str, Any]) -> None:
    expected = _expected(demo["world"])
    alerts = demo["alerts"]
    assert all(alert["historical"] for alert in alerts)
    keys = [
        (a["incident_id"], a["der_sha256"], a["transition"], a.get("overdue_week"), a.get("disagreement"))
        for a in alerts
    ]
    assert len(keys) == len(set(keys)), "an alert was raised twice"
    owners = {a["facts"]["ca_owner"] for a in alerts if a["transition"] == "new_incident"}
    assert owners == {"SECOM Trust Systems", "Sim DigiSign", "Sim Sectora", "Sim QuoVista", "Sim Camerfirma",
                      "Sim Prompt Trust"}  # fmt: skip
    for transition in ("deadline_breached", "revoked_late"):
        raised = {a["der_sha256"] for a in alerts if a["transition"] == transition}
        declared = {der for der, e in expected.items() if transition in e["alerts"]}
        assert raised == declared, transition


def _what_it_printed(demo: dict[str, Any]) -> list[str]:
    """The owner table, the alerts by transition and the reports listed, data folder left out."""
    lines = demo["output"].split("July 2020 OCSP-EKU incident as of", 1)[1].splitlines()
    return [line.replace(str(demo["data"]), "<data>") for line in lines if not line.startswith("Airflow UI")]


def _reports(demo: dict[str, Any]) -> dict[str, bytes]:
    """Every report file; in the text ones, what differs from one simulator run to the next masked:
    its port, and the hash of each OCSP answer (it echoes the request's random nonce)."""
    reports = demo["data"] / "reports"
    (port,) = re.findall(r"demo: simulator http://127\.0\.0\.1:(\d+) ", demo["output"])
    masks = [
        (re.compile(rf"(127\\?\.0\\?\.0\\?\.1\\?:){port}\b".encode()), rb"\g<1>PORT"),
        (re.compile(rb"response sha256 [0-9a-f]{64}"), b"response sha256 NONCE-DEPENDENT"),
    ]
    files = {}
    for path in sorted(p for p in reports.rglob("*") if p.is_file()):
        content = path.read_bytes()
        if path.suffix != ".png":
            for pattern, replacement in masks:
                content = pattern.sub(replacement, content)
        files[str(path.relative_to(reports))] = content
    return files


def test_on_postgresql_metadata_the_demo_prints_and_writes_what_it_does_on_sqlite(
    demo: dict[str, Any], demo_on_postgres: dict[str, Any]
) -> None:
    assert "metadata in SQLite" in demo["output"]
    assert "metadata in $CTWATCH_AIRFLOW_DB" in demo_on_postgres["output"]
    assert not (demo_on_postgres["data"] / "airflow" / "airflow.db").exists()
    assert _what_it_printed(demo_on_postgres) == _what_it_printed(demo)
    reports = _reports(demo)
    assert len(reports) > 20  # the index, and per incident its markdown, CSVs and plot
    assert _reports(demo_on_postgres) == reports
    for run in (demo, demo_on_postgres):
        for log in (run["data"] / "airflow" / "logs" / "components").glob("*.log"):
            assert "database is locked" not in log.read_text(errors="replace"), log
