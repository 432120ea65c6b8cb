"""The compliance clock end to end on the simulator (small.toml): CT logs ingested through the ingest
jobs, then the weeks around the July 2020 deadlines stepped through every 12 hours running the
revocation jobs (daily lists, CRLs, OCSP, disagreements) and the evaluator as of each step.
Verdicts, first CT times and alert transitions are checked against the world's ground truth with
exact times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ctwatch import jobs, warehouse
from ctwatch.evaluate import EvaluationConfig, Status, Verdict, evaluate, verdicts
from ctwatch.evaluate.config import parse_config
from ctwatch.evaluate.explain import explain
from ctwatch.evaluate.verdict import format_delay
from ctwatch.ingest import ingest_once
from ctwatch.ingest.jobs import START_AT_ORIGIN, IngestConfig
from ctwatch.revocation import crl_jobs
from ctwatch.revocation import jobs as rev_jobs
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from tests.conftest import REPO_ROOT
from tests.ingest.conftest import earliest_sightings
from tests.revocation_sources.conftest import sim_locations

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SMALL = REPO_ROOT / "include" / "ctwatch" / "sim" / "scenarios" / "small.toml"
CADENCE = timedelta(hours=12)
# From before the disclosure until every revocation of the scenario's CA certificates was published.
FIRST_STEP = datetime(2020, 6, 30, tzinfo=UTC)
LAST_STEP = datetime(2020, 7, 21, 12, tzinfo=UTC)
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # the real time: every step replays the past
CLOCK_START = datetime(2020, 7, 1, tzinfo=UTC)
WINDOW = timedelta(days=7)  # BR 4.9.1.2 for a subordinate CA, as of the clock start
INCIDENT = "ocsp-eku-2020:SECOM Trust Systems"
# The packaged incidents.toml with ctwatch's polling interval at this test's cadence.
CONFIG = b"""
[polling_interval_hours]
crl = 12
ocsp = 12
[[incidents]]
id = "ocsp-eku-2020"
rule = "e_ca_ocsp_signing_eku_without_nocheck"
clock_start = 2020-07-01
clock_source = "public disclosure (m.d.s.p, Ryan Sleevi)"
window_kind = "subordinate_ca"
reason = "not_issued_per_requirements"
trust_scope = "root_store"
key_destruction_required = true
"""


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class Replayed:
    warehouse_file: Path
    config: EvaluationConfig
    steps: list[datetime]
    ca_truth: dict[str, dict[str, Any]]  # cert id -> ground truth
    revocations: dict[str, dict[str, Any]]  # cert id -> ground truth
    first_ct: dict[str, tuple[datetime, str, int]]  # der_sha256 -> (time, log id, index)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    tmp = tmp_path_factory.mktemp("evaluate-sim")
    warehouse_file = tmp / "w.duckdb"
    config = parse_config(CONFIG)
    with SimulatorRunning(load_scenario(SMALL), cache_dir=tmp / "sim-cache") as sim:
        world = sim.world
        start = world.scenario.start
        # CT: every entry of both logs (as of the scenario's present), then the rules
        ingest = IngestConfig(
            log_list=str(sim.write_log_list(tmp / "log_list.json")),
            new_logs_start=START_AT_ORIGIN,
            min_range_entries=1000,
            requests_per_second=float("inf"),
        )
        assert ingest_once(warehouse_file, ingest, tmp / "ct-run", as_of=start).ranges_failed == 0
        jobs.evaluate_rules(warehouse_file, start)
        locations = sim_locations(sim)
        steps: list[datetime] = []
        at = FIRST_STEP
        while at <= LAST_STEP:
            if at.hour == 0:  # the daily lists and Bugzilla once a day
                assert rev_jobs.ingest_daily_lists(warehouse_file, locations, as_of=at).fetch_errors == []
                rev_jobs.ingest_bugzilla(warehouse_file, locations, as_of=at)
            crl = crl_jobs.ingest_crls(warehouse_file, locations, tmp / "crl", as_of=at)
            assert crl.errors == ()
            rev_jobs.query_ocsp_for_open_findings(warehouse_file, locations, as_of=at)
            rev_jobs.evaluate_disagreements(warehouse_file, at)
            con = warehouse.connect(warehouse_file)
            try:
                evaluate(con, at, config=config, now=NOW)
            finally:
                con.close()
            steps.append(at)
            at += CADENCE
        truth = world.ground_truth()
        ca_truth = {ca["cert_id"]: ca for ca in truth["ca_certificates"]}
        log_ids = {log.log_id.hex(): log for log in world.logs.values()}
        first_ct: dict[str, tuple[datetime, str, int]] = {}
        for sha, log_id, index, timestamp_ms in earliest_sightings(world):
            seen = (datetime.fromtimestamp(timestamp_ms / 1000, UTC), log_id, index)
            assert log_id in log_ids
            first_ct[sha] = min(first_ct.get(sha, seen), seen)
        revocations = {r["cert_id"]: r for r in truth["revocation"]["revocations"] if r["is_ca"]}
    return Replayed(warehouse_file, config, steps, ca_truth, revocations, first_ct)


def _deadline(replayed: Replayed, der_sha256: str) -> datetime:
    """Clock start + window, or for a member first in CT after the clock start, that + window."""
    first_ct_at = replayed.first_ct[der_sha256][0]
    later = first_ct_at + WINDOW if first_ct_at > CLOCK_START else CLOCK_START
    return max(CLOCK_START + WINDOW, later)


def _verdict(con: duckdb.DuckDBPyConnection, as_of: datetime, der_sha256: str) -> Verdict:
    (found,) = [v for v in verdicts(con, as_of) if v.der_sha256 == der_sha256 and v.incident_id == INCIDENT]
    return found


def _first_step_at_or_after(replayed: Replayed, moment: datetime) -> datetime:
    return next(step for step in replayed.steps if step >= moment)


def test_revoked_ocsp_signing_cas_get_their_deadline_and_delay(replayed: Replayed) -> None:
    end = replayed.steps[-1]
    con = warehouse.connect(replayed.warehouse_file, read_only=True)
    try:
        assert set(replayed.revocations) == {"jprs-dv-g3", "jprs-dv-g3.r1", "jprs-dv-g3.r2"}
        for cert_id, truth in replayed.revocations.items():
            verdict = _verdict(con, end, truth["der_sha256"])
            first_ct_at, log_id, index = replayed.first_ct[truth["der_sha256"]]
            deadline = _deadline(replayed, truth["der_sha256"])
            claimed = _t(truth["revoked_at_claimed"])
            published = _t(truth["crl_first_listed_at"])
            assert (verdict.first_ct_at, verdict.first_ct_basis) == (
                first_ct_at,
                f"ct_entry_timestamp: {log_id}#{index}",
            ), cert_id
            assert verdict.deadline == deadline, cert_id
            assert verdict.revoked_at_claimed == claimed
            # the claimed-time delay is exactly claimed - deadline (shown even when negative)
            claim_excess = claimed - deadline
            step = f"claimed {claimed:%Y-%m-%dT%H:%M:%SZ} - deadline {deadline:%Y-%m-%dT%H:%M:%SZ}"
            assert f"{step} = {format_delay(claim_excess)}" in verdict.arithmetic, verdict.arithmetic
            # ctwatch saw it at the first poll after the CA published it
            first_observed = verdict.first_observed_revoked_at
            assert first_observed is not None
            assert published <= first_observed < published + CADENCE, cert_id
            observed_excess = first_observed - (deadline + timedelta(hours=24) + CADENCE)
            delay = max(claim_excess, observed_excess)
            if delay > timedelta(0):
                assert (verdict.status, verdict.delay) == (Status.REVOKED_LATE, delay), cert_id
            else:
                assert (verdict.status, verdict.delay) == (Status.REVOKED_ON_TIME, None), cert_id
        # the backdated original: claimed before the deadline, late only by its publication
        backdated = _verdict(con, end, replayed.revocations["jprs-dv-g3"]["der_sha256"])
        assert backdated.status is Status.REVOKED_LATE
        assert backdated.revoked_at_claimed is not None
        assert backdated.deadline is not None
        assert backdated.revoked_at_claimed < backdated.deadline
    finally:
        con.close()


def test_re_issued_members_get_their_deadline_from_their_first_ct_time(replayed: Replayed) -> None:
    end = replayed.steps[-1]
    con = warehouse.connect(replayed.warehouse_file, read_only=True)
    try:
        for cert_id in ("jprs-dv-g3.r1", "jprs-dv-g3.r2"):
            sha = replayed.ca_truth[cert_id]["der_sha256"]
            first_ct_at = replayed.first_ct[sha][0]
            assert first_ct_at > _t(replayed.ca_truth[cert_id]["not_before"]) > CLOCK_START
            verdict = _verdict(con, end, sha)
            assert verdict.deadline == first_ct_at + WINDOW > CLOCK_START + WINDOW
            assert verdict.deadline_basis.startswith("issued after the clock start"), verdict.deadline_basis
            assert verdict.spki_sha256 == replayed.ca_truth["jprs-dv-g3"]["spki_sha256"]  # one key group
            # not a member before CT showed it
            before = _first_step_at_or_after(replayed, CLOCK_START + WINDOW)
            assert before < first_ct_at
            assert all(v.der_sha256 != sha for v in verdicts(con, before))
        text = explain(con, sha, end, replayed.config)
        log_id, index = replayed.first_ct[sha][1:]
        head = con.execute(
            "SELECT tree_size, sth_timestamp, sth_root_hash FROM certificate_ct_sightings"
            " WHERE der_sha256 = $sha AND log_id = $log",
            {"sha": sha, "log": log_id},
        ).fetchone()
    finally:
        con.close()
    assert head is not None
    size, sth_at, root = head
    assert f"log {log_id} entry {index} (earliest entry carrying it)" in text
    assert f"tree head size {size} at {sth_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} root {root}" in text


def test_the_backdated_revocation_is_a_crl_finding(replayed: Replayed) -> None:
    truth = replayed.revocations["jprs-dv-g3"]
    assert truth["backdated"]
    con = warehouse.connect(replayed.warehouse_file, read_only=True)
    try:
        found = con.execute(
            "SELECT DISTINCT finding_at, first_found_as_of FROM crl_findings"
            " WHERE code = 'crl_revocation_backdated' AND serial_hex = $serial",
            {"serial": truth["serial_hex"]},
        ).fetchall()
    finally:
        con.close()
    published = _t(truth["crl_first_listed_at"])
    assert found == [(_t(truth["revoked_at_claimed"]), _first_step_at_or_after(replayed, published))]


def test_alerts_follow_the_transitions(replayed: Replayed) -> None:
    con = warehouse.connect(replayed.warehouse_file, read_only=True)
    try:
        rows = con.execute(
            "SELECT der_sha256, transition, overdue_week, occurred_at, historical FROM alert_outbox"
            " WHERE incident_id = $incident",
            {"incident": INCIDENT},
        ).fetchall()
    finally:
        con.close()
    assert rows
    assert all(historical for *_, historical in rows)
    first: dict[tuple[str | None, str], datetime] = {}
    for sha, transition, _, occurred_at, _ in rows:
        key = (sha, transition)
        first[key] = min(first.get(key, occurred_at), occurred_at)
    original = replayed.revocations["jprs-dv-g3"]
    sha = original["der_sha256"]
    assert replayed.first_ct[sha][0] < replayed.steps[0]
    deadline = CLOCK_START + WINDOW
    seen = _first_step_at_or_after(replayed, _t(original["crl_first_listed_at"]))
    expected = {
        (None, "new_incident"): replayed.steps[0],
        (None, "clock_not_started"): replayed.steps[0],  # the disclosure was on 07-01
        (sha, "deadline_in_24h"): deadline - timedelta(hours=24),
        (sha, "deadline_breached"): deadline + CADENCE,  # as of the deadline itself: still on time
        (sha, "revoked_late"): seen,
    }
    assert {k: v for k, v in first.items() if k in expected} == expected
    # overdue from 07-08 until the 07-20 publication was seen: one still_overdue week
    weeks = sorted(week for s, transition, week, *_ in rows if s == sha and transition == "still_overdue")
    assert weeks == [1]
    # the re-issues were revoked on time: no deadline alert, only the sources that disagree
    for cert_id in ("jprs-dv-g3.r1", "jprs-dv-g3.r2"):
        member = replayed.revocations[cert_id]["der_sha256"]
        assert {t for s, t in first if s == member} == {"sources_disagree"}
