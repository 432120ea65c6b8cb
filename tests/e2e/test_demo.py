"""`make demo` end to end, over a shorter period: the simulator, Airflow (scheduler, dag-processor,
API server) and `airflow backfill create` of the real DAGs, then the verdicts and alerts checked
against the verdicts july2020.toml declares for this replay (`expected_verdicts`, written by hand).

12 weekly intervals from 2020-06-15 cover the deadline (2020-07-08), on-time and late revocations,
the backdated one (published 2020-08-21) and certificates still open at the end. Then the same
demo with its Airflow metadata on the machine's PostgreSQL: the same output and reports.
"""

from __future__ import annotations

import json
import re
import tomllib
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

import pytest

from ctwatch.demo import SCENARIO_FILE
from ctwatch.evaluate.model import Verdict
from ctwatch.sim.world import World
from ctwatch_airflow.rest_api import Api
from tests.declared import parse_delay
from tests.e2e.conftest import END

pytestmark = [pytest.mark.integration, pytest.mark.slow]


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


def _digest_as_of(alert: dict[str, Any]) -> str | None:
    digest = alert.get("overdue_digest")
    return None if digest is None else str(digest["period_start"])


def test_the_alerts_raised_match_the_declared_transitions(demo: dict[str, Any]) -> None:
    expected = _expected(demo["world"])
    alerts = demo["alerts"]
    assert all(alert["historical"] for alert in alerts)
    keys = [
        (a["incident_id"], a["der_sha256"], a["transition"], _digest_as_of(a), a.get("disagreement"))
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


def test_the_last_digests_list_the_certificates_declared_overdue(demo: dict[str, Any]) -> None:
    """A replay raises one still_overdue digest per incident and run: the last run's list, across
    incidents, exactly the certificates july2020.toml declares overdue at the end, with their delays."""
    digests = [a for a in demo["alerts"] if a["transition"] == "still_overdue"]
    assert all(a["der_sha256"] is None for a in digests)
    last = [a for a in digests if datetime.fromisoformat(a["occurred_at"]) == END]
    listed = [c for a in last for c in a["overdue_digest"]["certificates"]]
    declared = {der: e for der, e in _expected(demo["world"]).items() if e["status"] == "overdue"}
    assert len(declared) == 25
    assert sorted(c["der_sha256"] for c in listed) == sorted(declared)
    for certificate in listed:
        assert _iso_duration(certificate["delay"]) == parse_delay(
            declared[certificate["der_sha256"]]["delay"]
        )
    owners = {a["facts"]["ca_owner"] for a in last}
    assert len(owners) == len(last)  # one digest per incident


def _iso_duration(text: str) -> timedelta:
    """msgspec's ISO 8601 duration of a timedelta, e.g. 'P61D' or 'P8DT23400S'."""
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(\d+)S)?", text)
    assert match is not None, text
    return timedelta(days=int(match.group(1) or 0), seconds=int(match.group(2) or 0))


def _what_it_printed(demo: dict[str, Any]) -> list[str]:
    """The owner table, the alerts by transition and the reports listed, data folder left out."""
    lines = demo["output"].split("July 2020 OCSP-EKU incident as of", 1)[1].splitlines()
    shown = [line for line in lines if not line.startswith(("Airflow UI", "demo: serving"))]
    return [line.replace(str(demo["data"]), "<data>") for line in shown]


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


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, ""


def test_the_served_dashboard_is_behind_airflows_login(demo: dict[str, Any]) -> None:
    base = demo["base_url"]
    paths = ("/ctwatch/incidents", "/ctwatch/api/incidents", "/ctwatch/incident/file?id=x&name=appendix.csv")
    for path in paths:
        assert _get(base + path)[0] == 401, path
    token = Api(base, demo["password"]).token
    status, page = _get(base + "/ctwatch/incidents", token)
    assert status == 200
    assert "Evaluation as of <strong>2020-09-07T00:00:00Z</strong>" in page
    status, listed = _get(base + "/ctwatch/api/incidents", token)
    owners = {i["ca_owner"] for i in json.loads(listed)["incidents"]}
    assert owners == {"SECOM Trust Systems", "Sim DigiSign", "Sim Sectora", "Sim QuoVista", "Sim Camerfirma",
                      "Sim Prompt Trust"}  # fmt: skip
