"""`make demo` end to end, over a shorter period: the simulator, Airflow (scheduler, dag-processor,
API server) and `airflow backfill create` of the real DAGs, then the verdicts and alerts checked
against the verdicts july2020.toml declares for this replay (`expected_verdicts`, written by hand).

12 weekly intervals from 2020-06-15 cover the deadline (2020-07-08), on-time and late revocations,
the backdated one (published 2020-08-21) and certificates still open at the end. Then the demo
with its Airflow metadata on the machine's PostgreSQL, over the first 4 of those weeks: the same
verdicts, alerts, output and reports as the SQLite replay at that as-of (the warehouse keeps every
as-of's evaluation, and each alert its as-of).
"""

from __future__ import annotations

import io
import json
import re
import tomllib
import urllib.error
import urllib.request
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ctwatch import warehouse
from ctwatch.config import load_settings
from ctwatch.demo import SCENARIO_FILE
from ctwatch.evaluate import read
from ctwatch.evaluate.model import Verdict
from ctwatch.report import write_reports
from ctwatch.sim.world import World
from ctwatch_airflow.demo import print_results
from ctwatch_airflow.launcher import Layout
from ctwatch_airflow.replay_plan import EVALUATION_DAG, Replay
from ctwatch_airflow.rest_api import Api
from tests.declared import parse_delay
from tests.e2e.conftest import END, INTERVAL, SHORT_END, START

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
        (
            a["incident_id"],
            a["der_sha256"],
            a["transition"],
            _digest_as_of(a),
            a.get("disagreement"),
            a.get("plan_point"),
        )
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


def _what_it_printed(run: dict[str, Any]) -> list[str]:
    """The owner table, the alerts by transition and the reports listed, data folder left out."""
    lines = run["output"].split("July 2020 OCSP-EKU incident as of", 1)[1].splitlines()
    shown = [line for line in lines if not line.startswith(("Airflow UI", "demo: serving"))]
    return [line.replace(str(run["data"]), "<data>") for line in shown]


def _masked(content: bytes, port: str) -> bytes:
    """What differs from one simulator run to the next masked: its port, and the hash of each OCSP
    answer (it echoes the request's random nonce)."""
    masks = [
        (re.compile(rf"(127\\?\.0\\?\.0\\?\.1\\?:){port}\b".encode()), rb"\g<1>PORT"),
        (re.compile(rb"response sha256 [0-9a-f]{64}"), b"response sha256 NONCE-DEPENDENT"),
    ]
    for pattern, replacement in masks:
        content = pattern.sub(replacement, content)
    return content


def _reports(run: dict[str, Any]) -> dict[str, bytes]:
    """Every report file, the text ones masked (`_masked`)."""
    reports, port = run["data"] / "reports", run["port"]
    files = {}
    for path in sorted(p for p in reports.rglob("*") if p.is_file()):
        content = path.read_bytes()
        files[str(path.relative_to(reports))] = content if path.suffix == ".png" else _masked(content, port)
    return files


def _occurred_at(line: str) -> datetime:
    return datetime.fromisoformat(json.loads(line)["alert"]["event"]["occurred_at"])


def _alerts_sent(run: dict[str, Any]) -> list[bytes]:
    """The alerts in the replay sink (each as the webhook's JSON body, masked), by as-of and key."""
    lines = (run["data"] / "alerts" / "replay.jsonl").read_text().splitlines()
    sent = sorted(lines, key=lambda line: (_occurred_at(line), json.loads(line)["key"]))
    bodies = [json.dumps(json.loads(line)["alert"], sort_keys=True) for line in sent]
    return [_masked(body.encode(), run["port"]) for body in bodies]


def _stored_verdicts(run: dict[str, Any], as_of: datetime) -> bytes:
    """The verdicts of the evaluation as of `as_of`, masked; that evaluation must exist."""
    con = warehouse.connect(run["data"] / "warehouse.duckdb", read_only=True)
    try:
        assert read.latest_evaluation(con, as_of) == as_of, run["data"]
        return _masked(repr(read.verdicts(con, as_of)).encode(), run["port"])
    finally:
        con.close()


def _as_of(run: dict[str, Any], replay: Replay, folder: Path) -> dict[str, Any]:
    """The demo `run` as it was at `replay`'s end, in `folder`: the alerts it sent for as-ofs up to
    then, the reports of that as-of's stored evaluation (the report task's own `write_reports`,
    with the demo's declarations) and the results the demo prints (its own `print_results`)."""
    (folder / "alerts").mkdir(parents=True)
    sent = (run["data"] / "alerts" / "replay.jsonl").read_text().splitlines()
    then = [f"{line}\n" for line in sent if _occurred_at(line) <= replay.last_as_of]
    (folder / "alerts" / "replay.jsonl").write_text("".join(then))
    configured = load_settings(run["data"] / "ctwatch.toml", environ={})
    assert configured.warehouse == run["data"] / "warehouse.duckdb"
    write_reports(configured.warehouse, replay.last_as_of, folder / "reports", config=configured.declarations)
    layout = Layout(folder, folder / "airflow", configured.warehouse, "127.0.0.1", 0)
    printed = io.StringIO()
    with redirect_stdout(printed):
        print_results(layout, replay)
    return {"output": printed.getvalue(), "data": folder, "port": run["port"]}


def test_on_postgresql_metadata_the_demo_prints_and_writes_what_it_does_on_sqlite(
    demo: dict[str, Any], demo_on_postgres: dict[str, Any], tmp_path: Path
) -> None:
    """The PostgreSQL replay, the first weeks of the SQLite one, against what the SQLite replay
    stored for those weeks. (The SQLite replay ingested all its weeks before evaluating: a
    difference can also mean that an evaluation read what was observed after its as-of.)"""
    postgres = demo_on_postgres
    assert "metadata in SQLite" in demo["output"]
    assert "metadata in $CTWATCH_AIRFLOW_DB" in postgres["output"]
    assert not (postgres["data"] / "airflow" / "airflow.db").exists()
    assert postgres["output"].count("failed: none") == 3  # every run of the three backfills succeeded
    replay = Replay(START, SHORT_END, INTERVAL, INTERVAL)
    assert replay.last_as_of == SHORT_END
    step = replay.step_of(EVALUATION_DAG)
    as_ofs = [START + k * step for k in range(1, replay.runs_of(EVALUATION_DAG) + 1)]
    assert len(as_ofs) == 4
    declared = tomllib.loads(SCENARIO_FILE.read_text(encoding="utf-8"))["expected_verdicts"]
    assert min(e["deadline"] for e in declared) < SHORT_END  # the short replay passes the deadline
    for as_of in as_ofs:
        assert _stored_verdicts(postgres, as_of) == _stored_verdicts(demo, as_of), as_of
    sqlite = _as_of(demo, replay, tmp_path / "sqlite-then")
    assert _alerts_sent(postgres) == _alerts_sent(sqlite)
    assert _what_it_printed(postgres) == _what_it_printed(sqlite)
    reports = _reports(sqlite)
    assert len(reports) > 20  # the index, and per incident its markdown, CSVs and plot
    assert _reports(postgres) == reports
    for run in (demo, postgres):
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


def test_secoms_plan_is_checked_against_the_jprs_leaves(demo: dict[str, Any]) -> None:
    """The SECOM report's plan section against a hand computation from the world: JPRS's leaves from
    the log records, the leaf revocations july2020.toml declares, the plan's 5% by 2020-08-31 and its
    stop date (the end of 2020-07-29) from evaluation.toml."""
    world = demo["world"]
    leaves: dict[int, tuple[datetime, datetime]] = {}
    for entry in world.leaf_entries("jprs-dv-g3"):
        leaves.setdefault(entry.serial, (entry.not_before, entry.not_after))
    clock_start, due, stop = (datetime(2020, 7, 1, tzinfo=UTC), datetime(2020, 9, 1, tzinfo=UTC),
                              datetime(2020, 7, 30, tzinfo=UTC))  # fmt: skip
    baseline = {serial for serial, (nb, na) in leaves.items() if nb <= clock_start <= na}
    revoked = {
        r.serial
        for r in world.revocations.revocations
        if r.scope == "jprs-dv-g3" and not r.is_ca and r.published_at is not None and r.published_at <= due
    }
    remaining = len(baseline - revoked)
    measured = 100 * (len(baseline) - remaining) / len(baseline)
    state = "within margin" if 0 < 5 - measured <= 5 else "unexpected"
    late = [serial for serial, (nb, _) in leaves.items() if nb > stop]
    (folder,) = (demo["data"] / "reports").glob("ocsp-eku-2020-secom-trust-systems-*")
    report = (folder / "incident.md").read_text(encoding="utf-8")
    assert "## Plan vs evidence" in report
    row = (f"| 2020\\-08\\-31 | 5.0% | {measured:.1f}% ({remaining} of {len(baseline)} remain) | "
           f"{measured - 5:+.1f} | {state} |")  # fmt: skip
    assert row in report
    assert f"| no leaf issued after it | {len(late)} issued after it | — | broken |" in report
    assert (folder / "plan_progress.png").read_bytes().startswith(b"\x89PNG")
    assert (folder / "plan_progress.csv").is_file()
    printed = f"  2020-08-31: planned   5.0%  measured {measured:5.1f}% of {len(baseline)}  within_margin"
    assert printed in demo["output"]
    plan_alerts = [
        a["transition"] for a in demo["alerts"] if a["transition"] in {"plan_behind", "issued_after_stop"}
    ]
    assert plan_alerts == ["issued_after_stop"]  # the one milestone due by END is within the margin
