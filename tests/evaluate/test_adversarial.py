"""The compliance clock end to end on an adversarial simulated world (adversarial.toml), against the
verdicts written by hand in the scenario file.

CT logs are ingested through the ingest jobs; the one certificate CT never shows (a cross-sign)
is imported from a file, as staff would. Then ctwatch polls the simulated sources at the scenario's
declared poll times (revocation jobs, disagreements, the evaluator as of each poll). Nothing here
computes an expected value: every one is read from the scenario file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ctwatch import rule_runs, warehouse
from ctwatch.alerts.model import decode_event
from ctwatch.evaluate import EvaluationConfig, Verdict, evaluate, incidents, verdicts
from ctwatch.evaluate.config import parse_config
from ctwatch.ingest import START_AT_ORIGIN, IngestConfig, ingest_once
from ctwatch.ingest.certificate_files import import_certificate_files
from ctwatch.revocation import bugzilla_bugs, daily_lists, disagreements, ocsp_queries, watched_crls
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from tests.declared import parse_delay
from tests.revocation_sources.conftest import sim_locations

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SCENARIO = Path(__file__).with_name("adversarial.toml")
DECLARED: dict[str, Any] = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # the real time: every poll replays the past


def _polls(table: dict[str, Any]) -> list[datetime]:
    """The declared poll times: every N hours from first to last, the extra ones, minus the gap."""
    times = set(table["also"])
    at = table["first"]
    while at <= table["last"]:
        times.add(at)
        at += timedelta(hours=table["every_hours"])
    return sorted(t for t in times if not table["skip_after"] < t < table["skip_before"])


def _config(sha: dict[str, str]) -> EvaluationConfig:
    """The declared incidents as an incidents file, certificate ids replaced by their SHA-256."""
    lines = []
    for table in DECLARED["declared_incidents"]:
        lines.append("[[incidents]]")
        for key, declared in table.items():
            value = [sha[cert_id] for cert_id in declared] if key == "certificates" else declared
            if isinstance(value, datetime):
                lines.append(f"{key} = {value.isoformat().replace('+00:00', 'Z')}")
            elif isinstance(value, bool):
                lines.append(f"{key} = {str(value).lower()}")
            elif isinstance(value, list):
                lines.append(f"{key} = [{', '.join(repr(v) for v in value)}]".replace("'", '"'))
            else:
                lines.append(f'{key} = "{value}"')
        lines.append("")
    return parse_config("\n".join(lines).encode())


@dataclass(frozen=True)
class Replayed:
    warehouse_file: Path
    sha: dict[str, str]  # cert id -> der_sha256
    polls: list[datetime]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    tmp = tmp_path_factory.mktemp("adversarial")
    warehouse_file = tmp / "w.duckdb"
    polls = _polls(DECLARED["polls"])
    with SimulatorRunning(load_scenario(SCENARIO), cache_dir=tmp / "sim-cache") as sim:
        world = sim.world
        sha = {cert_id: cert.der_sha256 for cert_id, cert in world.ca_certs.items()}
        config = _config(sha)
        ingest = IngestConfig(
            log_list=str(sim.write_log_list(tmp / "log_list.json")),
            new_logs_start=START_AT_ORIGIN,
            min_range_entries=1000,
            requests_per_second=float("inf"),
        )
        # History ctwatch did not watch live: CT is ingested, and the rules run, as of the last poll,
        # so ctwatch's own detection comes after every bug (none is "filed after the detection").
        assert ingest_once(warehouse_file, ingest, tmp / "ct-run", as_of=polls[-1]).ranges_failed == 0
        cross = tmp / "alpha-x-by-beta.der"
        cross.write_bytes(world.ca_certs["alpha-x-by-beta"].der)
        assert import_certificate_files(warehouse_file, [cross]).new_certificates == 1
        rule_runs.evaluate_rules(warehouse_file, polls[-1])
        locations = sim_locations(sim)
        for at in polls:
            if at.hour == at.minute == at.second == 0:  # the daily lists and Bugzilla at 00:00
                assert daily_lists.ingest_daily_lists(warehouse_file, locations, as_of=at).fetch_errors == []
                bugzilla_bugs.ingest_bugzilla(warehouse_file, locations, as_of=at)
            assert watched_crls.ingest_crls(warehouse_file, locations, tmp / "crl", as_of=at).errors == ()
            ocsp_queries.query_ocsp_for_open_findings(warehouse_file, locations, as_of=at)
            disagreements.evaluate_disagreements(warehouse_file, at)
            con = warehouse.connect(warehouse_file)
            try:
                evaluate(con, at, config=config, now=NOW)
            finally:
                con.close()
    return Replayed(warehouse_file, sha, polls)


@pytest.fixture
def con(replayed: Replayed) -> Iterator[Any]:
    connection = warehouse.connect(replayed.warehouse_file, read_only=True)
    yield connection
    connection.close()


def _verdict(con: Any, as_of: datetime, incident_id: str, der_sha256: str) -> Verdict:
    found = [v for v in verdicts(con, as_of) if v.der_sha256 == der_sha256 and v.incident_id == incident_id]
    assert len(found) == 1, f"{len(found)} verdicts of {der_sha256[:12]} in {incident_id} as of {as_of}"
    return found[0]


def _case(expected: dict[str, Any]) -> str:
    return f"{expected['cert']} in {expected['incident']} as of {expected.get('as_of', 'the last poll')}"


@pytest.mark.parametrize("expected", DECLARED["expected_verdicts"], ids=_case)
def test_verdicts_match_the_declared_truth(replayed: Replayed, con: Any, expected: dict[str, Any]) -> None:
    as_of = expected.get("as_of", replayed.polls[-1])
    der = replayed.sha[expected["cert"]]
    verdict = _verdict(con, as_of, expected["incident"], der)
    delay = parse_delay(expected.get("delay"))
    assert (verdict.status, verdict.basis, verdict.deadline) == (
        expected["status"],
        expected["basis"],
        expected.get("deadline"),
    ), verdict.basis_text
    assert (verdict.delay, verdict.delay_max) == (delay, parse_delay(expected.get("delay_max")) or delay)
    for field in ("revoked_at_claimed", "first_observed_revoked_at", "last_observed_absent_at"):
        if field in expected:
            assert getattr(verdict, field) == expected[field], field
    codes = sorted(finding.split(":", 1)[0] for finding in verdict.findings)
    assert codes == sorted(expected.get("findings", []))
    actions = expected.get("root_program_actions", [])
    assert len(verdict.root_program_actions) == len(actions)
    for action in actions:
        assert any(action in found for found in verdict.root_program_actions), verdict.root_program_actions
    open_kinds = con.execute(
        "SELECT kind FROM revocation_disagreements WHERE der_sha256 = $d AND first_found_as_of <= $as_of"
        " AND (resolved_as_of IS NULL OR resolved_as_of > $as_of) ORDER BY kind",
        {"d": der, "as_of": as_of},
    ).fetchall()
    assert [kind for (kind,) in open_kinds] == sorted(expected.get("disagreements", []))
    if "cross_certificate" in expected:
        flag = con.execute("SELECT is_cross_certificate FROM certificates WHERE der_sha256 = $d", {"d": der})
        assert flag.fetchone() == (expected["cross_certificate"],)


@pytest.mark.parametrize("expected", DECLARED["expected_clocks"], ids=lambda e: e["incident"])
def test_clocks_match_the_declared_truth(replayed: Replayed, con: Any, expected: dict[str, Any]) -> None:
    (incident,) = [i for i in incidents(con, replayed.polls[-1]) if i.incident_id == expected["incident"]]
    assert (incident.clock_start, incident.clock_source) == (expected["clock_start"], expected["source"])


@pytest.mark.parametrize("expected", DECLARED["expected_alerts"], ids=lambda e: e["cert"])
def test_alerts_match_the_declared_truth(replayed: Replayed, con: Any, expected: dict[str, Any]) -> None:
    rows = con.execute(
        "SELECT transition, min(occurred_at) FROM alert_outbox WHERE der_sha256 = $d GROUP BY transition",
        {"d": replayed.sha[expected["cert"]]},
    ).fetchall()
    assert {transition: first.astimezone(UTC) for transition, first in rows} == expected["first"]
    assert con.execute("SELECT bool_and(historical) FROM alert_outbox").fetchone() == (True,)


@pytest.mark.parametrize("expected", DECLARED["expected_digests"], ids=lambda e: e["incident"])
def test_digests_match_the_declared_truth(replayed: Replayed, con: Any, expected: dict[str, Any]) -> None:
    rows = con.execute(
        "SELECT occurred_at, der_sha256, event_json FROM alert_outbox"
        " WHERE transition = 'still_overdue' AND incident_id = $i ORDER BY occurred_at",
        {"i": expected["incident"]},
    ).fetchall()
    first = expected.get("from")
    assert [at.astimezone(UTC) for at, _, _ in rows] == [
        poll for poll in replayed.polls if first is not None and poll >= first
    ]
    assert {der for _, der, _ in rows} <= {None}  # incident-level alerts
    last = decode_event(rows[-1][2]).overdue_digest if rows else None
    listed = {} if last is None else {c.der_sha256: c.delay for c in last.certificates}
    assert listed == {replayed.sha[cert]: parse_delay(delay) for cert, delay in expected["last"].items()}
    if last is not None:
        delays = [c.delay for c in last.certificates]
        assert delays == sorted(delays, reverse=True)
