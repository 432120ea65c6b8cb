"""`make demo` end to end, over a shorter period: the simulator, Airflow (scheduler, dag-processor,
API server) and `airflow backfill create` of the real DAGs, then the verdicts and alerts checked
against the scenario's ground truth.

12 weekly intervals from 2020-06-15 cover the deadline (2020-07-08), on-time and late revocations,
the backdated one (published 2020-08-21) and certificates still open at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ctwatch import warehouse
from ctwatch.demo import SCENARIO_FILE
from ctwatch.evaluate import read
from ctwatch.evaluate.model import Verdict
from ctwatch.evaluate.verdict import Status
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.world import World
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START = datetime(2020, 6, 15, tzinfo=UTC)
END = datetime(2020, 9, 7, tzinfo=UTC)  # 12 weekly intervals: the last as-of is END
INTERVAL = timedelta(days=7)
DEADLINE = datetime(2020, 7, 8, tzinfo=UTC)  # disclosure 2020-07-01 + 7 days (BR 4.9.1.2)
WINDOW = timedelta(days=7)
PUBLICATION_ALLOWANCE = timedelta(hours=24)
DEMO_TIMEOUT_S = 600


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("demo")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "CTWATCH_DEMO_DIR": str(data),
        "PYTHONPATH": f"{REPO_ROOT / 'include'}{os.pathsep}{REPO_ROOT / 'plugins'}",
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


def _first_ct_at(world: World, cert_id: str) -> datetime:
    positions = world.ground_truth()["ocsp_signing_ca_first_seen"][cert_id]
    ms = min(world.logs[p["log"]].record(p["index"]).timestamp_ms for p in positions)
    return datetime.fromtimestamp(ms / 1000, UTC)


def _expected(world: World) -> dict[str, dict[str, Any]]:
    """Per flagged certificate (der_sha256): deadline, claimed time, first CRL listing (ground truth)."""
    truth = world.ground_truth()
    revocations = {r["cert_id"]: r for r in truth["revocation"]["revocations"]}
    expected = {}
    for cert in truth["ca_certificates"]:
        if not cert["ocsp_signing"] or cert["ocsp_nocheck"] or cert["kind"] == "root":
            continue
        deadline = DEADLINE
        if cert["reissue_of"]:  # a key-group member issued after the clock start (issue 7, point 2)
            deadline = max(DEADLINE, _first_ct_at(world, cert["cert_id"]) + WINDOW)
        revocation = revocations.get(cert["cert_id"])
        published = _utc(revocation["crl_first_listed_at"]) if revocation else None
        expected[cert["der_sha256"]] = {
            "cert_id": cert["cert_id"],
            "owner": cert["owner"],
            "deadline": deadline,
            "claimed": _utc(revocation["revoked_at_claimed"]) if revocation else None,
            "published": published if published is not None and published <= END else None,
            "backdated": bool(revocation and revocation["backdated"]),
        }
    return expected


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
    expected = _expected(demo["world"])
    verdicts = _by_cert(demo["verdicts"])
    assert len(expected) == 50
    assert set(expected) <= set(verdicts)


def test_claimed_delays_equal_the_ground_truth_exactly(demo: dict[str, Any]) -> None:
    verdicts = _by_cert(demo["verdicts"])
    checked = 0
    for der_sha256, truth in _expected(demo["world"]).items():
        verdict = verdicts[der_sha256]
        assert verdict.deadline == truth["deadline"], truth["cert_id"]
        if truth["published"] is None:
            assert verdict.status in (Status.OVERDUE, Status.PENDING), truth["cert_id"]
            assert verdict.revoked_at_claimed is None
            continue
        assert verdict.revoked_at_claimed == truth["claimed"], truth["cert_id"]
        assert verdict.revoked_at_claimed - verdict.deadline == truth["claimed"] - truth["deadline"]
        checked += 1
    assert checked >= 20  # published by the end of the shorter period


def test_observation_based_delays_are_within_one_backfill_interval(demo: dict[str, Any]) -> None:
    verdicts = _by_cert(demo["verdicts"])
    for der_sha256, truth in _expected(demo["world"]).items():
        if truth["published"] is None:
            continue
        verdict = verdicts[der_sha256]
        observed = verdict.first_observed_revoked_at
        assert observed is not None, truth["cert_id"]
        # Each weekly run answers as of its interval end: the first one at or after the publication.
        assert timedelta(0) <= observed - truth["published"] <= INTERVAL, truth["cert_id"]
        bound = truth["deadline"] + PUBLICATION_ALLOWANCE + INTERVAL  # the demo polls weekly
        claimed_excess = truth["claimed"] - truth["deadline"]
        observed_excess = observed - bound
        if max(claimed_excess, observed_excess) <= timedelta(0):
            assert verdict.status is Status.REVOKED_ON_TIME, truth["cert_id"]
        else:
            assert verdict.status is Status.REVOKED_LATE, truth["cert_id"]
            # Delays are stored in whole seconds.
            expected_delay_s = int(max(claimed_excess, observed_excess).total_seconds())
            assert verdict.delay == timedelta(seconds=expected_delay_s), truth["cert_id"]


def test_the_backdated_revocation_is_caught(demo: dict[str, Any]) -> None:
    verdicts = _by_cert(demo["verdicts"])
    backdated = [(d, t) for d, t in _expected(demo["world"]).items() if t["backdated"]]
    assert [t["cert_id"] for _, t in backdated] == ["camerfirma-ocsp-1"]
    der_sha256, truth = backdated[0]
    verdict = verdicts[der_sha256]
    assert verdict.revoked_at_claimed is not None
    assert verdict.revoked_at_claimed <= truth["deadline"]
    assert verdict.status is Status.REVOKED_LATE
    assert verdict.delay is not None
    assert verdict.delay > timedelta(days=30)


def test_the_alerts_raised_match_the_expected_transitions(demo: dict[str, Any]) -> None:
    expected = _expected(demo["world"])
    verdicts = _by_cert(demo["verdicts"])
    alerts = demo["alerts"]
    assert all(alert["historical"] for alert in alerts)
    keys = [(a["incident_id"], a["der_sha256"], a["transition"], a.get("overdue_week")) for a in alerts]
    assert len(keys) == len(set(keys)), "an alert was raised twice"

    def certs(transition: str) -> set[str]:
        return {a["der_sha256"] for a in alerts if a["transition"] == transition}

    owners = {a["facts"]["ca_owner"] for a in alerts if a["transition"] == "new_incident"}
    assert owners == {t["owner"] for t in expected.values()}
    late = {d for d, v in verdicts.items() if d in expected and v.status is Status.REVOKED_LATE}
    assert certs("revoked_late") == late
    # Overdue at some weekly as-of: past the deadline and not yet seen revoked.
    as_ofs = [START + INTERVAL * (k + 1) for k in range(12)]
    breached = {
        d
        for d, t in expected.items()
        if any(
            t["deadline"] < as_of and (verdicts[d].first_observed_revoked_at or END + INTERVAL) > as_of
            for as_of in as_ofs
        )
    }
    assert certs("deadline_breached") == breached
    assert certs("still_overdue") <= breached
