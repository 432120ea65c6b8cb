"""Verdicts against hand-computed expectations at every boundary.

The declared incident: clock start 2020-07-01T00:00Z, 7 days -> deadline 2020-07-08T00:00Z; CRL
publication allowance 24 h and polling interval 4 h -> a first CRL observation is on time until
2020-07-09T04:00Z.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from ctwatch import evaluate
from ctwatch.alerts import Transition
from ctwatch.evaluate import Basis, EvaluationConfig, IncidentStatus, KeyDestruction, KeyGroupState, Status
from ctwatch.evaluate.explain import explain
from ctwatch.x509.model import CertKind
from tests.evaluate.conftest import RULE, add_cert, ccadb, observe, utc

A = "a1" * 32  # JPRS-like G3, issued 2019
A_REISSUE = "a2" * 32  # same key, issued 2020-07-10
B = "b1" * 32
KEY_A = "ee" * 32
KEY_B = "dd" * 32
INCIDENT = "ocsp-eku-2020:SECOM Trust Systems"
DEADLINE = utc(2020, 7, 8)
LATEST_ON_TIME_OBSERVATION = utc(2020, 7, 9, 4)


def _verdict(
    con: duckdb.DuckDBPyConnection, config: EvaluationConfig, as_of_day: int, der: str, month: int = 7
) -> evaluate.Verdict:
    as_of = utc(2020, month, as_of_day)
    evaluate.evaluate(con, as_of, config=config, now=utc(2026, 1, 1))
    return next(v for v in evaluate.verdicts(con, as_of) if v.der_sha256 == der)


@pytest.fixture
def one(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    add_cert(con, A, spki=KEY_A)
    ccadb(con, {A: "JPRS"})
    return con


@pytest.mark.parametrize(
    ("claimed", "first", "absent", "status", "delay"),
    [
        # revoked exactly at the deadline, published at once: on time
        (DEADLINE, utc(2020, 7, 8, 1), utc(2020, 7, 7), Status.REVOKED_ON_TIME, None),
        # claimed one second late
        (DEADLINE + timedelta(seconds=1), utc(2020, 7, 8, 1), utc(2020, 7, 7),
         Status.REVOKED_LATE, timedelta(seconds=1)),
        # first observed at the last instant of allowance + polling: on time
        (utc(2020, 7, 7), LATEST_ON_TIME_OBSERVATION, utc(2020, 7, 9), Status.REVOKED_ON_TIME, None),
        (utc(2020, 7, 7), LATEST_ON_TIME_OBSERVATION + timedelta(seconds=1), utc(2020, 7, 9),
         Status.REVOKED_LATE, timedelta(seconds=1)),
        # claimed on time (backdated), observed late: late by the observation excess
        (utc(2020, 7, 5), utc(2020, 7, 20, 6), utc(2020, 7, 20),
         Status.REVOKED_LATE, timedelta(days=11, hours=2)),
        # both late: the larger excess (claim 12 days, observation 11 days 2 hours)
        (utc(2020, 7, 20), utc(2020, 7, 20, 6), utc(2020, 7, 20), Status.REVOKED_LATE, timedelta(days=12)),
        # revoked before the clock start
        (utc(2020, 6, 20), utc(2020, 6, 21), utc(2020, 6, 20), Status.REVOKED_BEFORE_START, None),
    ],
)  # fmt: skip
def test_revocation_boundaries(  # noqa: PLR0917 - pytest passes the parameters by name
    one: duckdb.DuckDBPyConnection, config: EvaluationConfig, claimed, first, absent, status, delay
) -> None:
    observe(one, A, claimed=claimed, first=first, absent=absent)
    verdict = _verdict(one, config, 25, A)
    assert verdict.deadline == DEADLINE
    assert (verdict.status, verdict.delay, verdict.basis) == (status, delay, Basis.OBSERVED)
    assert verdict.ca_owner == "SECOM Trust Systems"
    assert verdict.subordinate_ca_owner == "JPRS"
    assert verdict.dns_names is None  # a CA certificate: n/a


def test_pending_then_overdue_then_expired(con: duckdb.DuckDBPyConnection, config: EvaluationConfig) -> None:
    add_cert(con, A, spki=KEY_A, not_after=utc(2020, 7, 20))
    ccadb(con, {A: None})
    assert _verdict(con, config, 7, A).status is Status.PENDING
    overdue = _verdict(con, config, 10, A)
    assert (overdue.status, overdue.delay) == (Status.OVERDUE, timedelta(days=2))
    expired = _verdict(con, config, 25, A)
    assert (expired.status, expired.delay) == (Status.EXPIRED_UNREVOKED, timedelta(days=12))


def test_expired_before_the_deadline_is_no_delay(
    con: duckdb.DuckDBPyConnection, config: EvaluationConfig
) -> None:
    add_cert(con, A, spki=KEY_A, not_after=utc(2020, 7, 5))
    ccadb(con, {A: None})
    verdict = _verdict(con, config, 25, A)
    assert (verdict.status, verdict.delay) == (Status.EXPIRED_UNREVOKED, None)


def test_key_group_member_issued_after_the_clock_start(
    one: duckdb.DuckDBPyConnection, config: EvaluationConfig
) -> None:
    add_cert(one, A_REISSUE, spki=KEY_A, not_before=utc(2020, 7, 10), finding=False, serial_hex="02")
    assert _verdict(one, config, 12, A_REISSUE).status is Status.PENDING
    late_member = _verdict(one, config, 20, A_REISSUE)
    assert late_member.deadline == utc(2020, 7, 17)  # max(07-08, 07-10 + 7 days)
    assert (late_member.status, late_member.delay) == (Status.OVERDUE, timedelta(days=3))
    assert not late_member.has_finding
    observe(one, A_REISSUE, claimed=utc(2020, 7, 16), first=utc(2020, 7, 16, 5), absent=utc(2020, 7, 16, 1))
    assert _verdict(one, config, 21, A_REISSUE).status is Status.REVOKED_ON_TIME


def test_member_issued_before_the_start_but_logged_later_gets_no_extra_time(
    one: duckdb.DuckDBPyConnection, config: EvaluationConfig
) -> None:
    from ctwatch.warehouse import ct_store

    logged_late = "a3" * 32
    add_cert(one, logged_late, spki=KEY_A, not_before=utc(2020, 6, 1), finding=False, serial_hex="03")
    first_ct_ms = int(utc(2020, 7, 7).timestamp() * 1000)
    ct_store.record_sightings(
        one, [ct_store.CtSighting(logged_late, "11" * 32, 5, first_ct_ms, 10, first_ct_ms, b"\x00" * 32)]
    )
    verdict = _verdict(one, config, 12, logged_late)
    assert verdict.first_ct_at == utc(2020, 7, 7)
    assert verdict.deadline == DEADLINE  # not 07-07 + 7 days: the CA knew it at the clock start
    assert (verdict.status, verdict.delay) == (Status.OVERDUE, timedelta(days=4))


def test_claimed_only_when_nobody_watched(one: duckdb.DuckDBPyConnection, config: EvaluationConfig) -> None:
    # ctwatch's first CRL fetch (2021) already listed it; OneCRL listed it 2020-07-28
    observe(one, A, claimed=utc(2020, 7, 10), first=utc(2021, 1, 4))
    observe(one, A, claimed=None, first=utc(2020, 7, 28, 10), source="onecrl", observer="onecrl")
    as_of = utc(2021, 2, 1)
    evaluate.evaluate(one, as_of, config=config, now=utc(2026, 1, 1))
    verdict = next(v for v in evaluate.verdicts(one, as_of) if v.der_sha256 == A)
    assert (verdict.status, verdict.delay, verdict.basis) == (
        Status.REVOKED_LATE,
        timedelta(days=2),
        Basis.CLAIMED_ONLY,
    )
    assert any("onecrl first listed by 2020-07-28T10:00:00Z" in b for b in verdict.bounds)
    assert any("crl first listed by 2021-01-04" in b for b in verdict.bounds)


def test_as_of_excludes_later_observations(one: duckdb.DuckDBPyConnection, config: EvaluationConfig) -> None:
    observe(one, A, claimed=utc(2020, 7, 5), first=utc(2020, 7, 20, 6), absent=utc(2020, 7, 20))
    before = _verdict(one, config, 15, A)
    assert (before.status, before.delay) == (Status.OVERDUE, timedelta(days=7))
    assert _verdict(one, config, 21, A).status is Status.REVOKED_LATE
    # the earlier as-of is still reproducible and unchanged
    assert evaluate.verdicts(one, utc(2020, 7, 15)) == [before] + [
        v for v in evaluate.verdicts(one, utc(2020, 7, 15)) if v.der_sha256 != A
    ]


def test_key_group_closes_only_with_key_destruction(
    one: duckdb.DuckDBPyConnection, config: EvaluationConfig
) -> None:
    add_cert(one, A_REISSUE, spki=KEY_A, not_before=utc(2020, 7, 10), finding=False, serial_hex="02")
    observe(one, A, claimed=utc(2020, 7, 5), first=utc(2020, 7, 5, 2), absent=utc(2020, 7, 5))
    observe(one, A_REISSUE, claimed=utc(2021, 3, 9), first=utc(2021, 3, 9, 3), absent=utc(2021, 3, 9))
    as_of = utc(2021, 3, 20)
    evaluate.evaluate(one, as_of, config=config, now=utc(2026, 1, 1))
    (group,) = evaluate.key_group_status(one, as_of)
    assert (group.status, group.revoked, group.open, group.members) == (
        KeyGroupState.AWAITING_KEY_DESTRUCTION,
        2,
        0,
        3 - 1,
    )
    (incident,) = evaluate.incidents(one, as_of)
    assert incident.status == IncidentStatus.AWAITING_KEY_DESTRUCTION
    evaluate.record_key_destruction(
        one, KeyDestruction(KEY_A, utc(2021, 3, 31), "Auditor KK", "https://example/audit")
    )
    evaluate.evaluate(one, as_of, config=config, now=utc(2026, 1, 1))
    assert evaluate.key_group_status(one, as_of)[0].status == KeyGroupState.AWAITING_KEY_DESTRUCTION
    later = utc(2021, 4, 1)
    evaluate.evaluate(one, later, config=config, now=utc(2026, 1, 1))
    (closed,) = evaluate.key_group_status(one, later)
    assert (closed.status, closed.key_destruction_auditor) == (KeyGroupState.CLOSED, "Auditor KK")
    assert evaluate.incidents(one, later)[0].status == IncidentStatus.CLOSED


def _tables(con: duckdb.DuckDBPyConnection) -> list[object]:
    return [
        con.execute(f"SELECT * EXCLUDE ({skip}) FROM {table} ORDER BY ALL").fetchall()
        for table, skip in (
            ("compliance_incidents", "as_of"),
            ("compliance_verdicts", "as_of"),
            ("compliance_key_groups", "as_of"),
            ("compliance_runs", "evaluated_at"),
            ("alert_outbox", "enqueued_at, enqueue_seq"),
        )
    ]


def test_same_as_of_twice_changes_nothing(one: duckdb.DuckDBPyConnection, config: EvaluationConfig) -> None:
    observe(one, A, claimed=utc(2020, 7, 5), first=utc(2020, 7, 20, 6), absent=utc(2020, 7, 20))
    evaluate.evaluate(one, utc(2020, 7, 21), config=config, now=utc(2026, 1, 1))
    first = _tables(one)
    evaluate.evaluate(one, utc(2020, 7, 21), config=config, now=utc(2026, 1, 1))
    assert _tables(one) == first
    transitions = {row[0] for row in one.execute("SELECT transition FROM alert_outbox").fetchall()}
    assert transitions == {Transition.NEW_INCIDENT, Transition.REVOKED_LATE}
    assert one.execute("SELECT bool_and(historical) FROM alert_outbox").fetchone() == (True,)


def test_out_of_store_findings_are_not_incidents_of_a_root_store_declaration(
    con: duckdb.DuckDBPyConnection, config: EvaluationConfig
) -> None:
    add_cert(con, B, spki=KEY_B)  # no CCADB record, issuer not listed either
    assessment = evaluate.evaluate(con, utc(2020, 7, 10), config=config, now=utc(2026, 1, 1))
    assert (assessment.incidents, assessment.out_of_scope) == ((), 1)


def test_detected_incident_needs_a_clock_start(con: duckdb.DuckDBPyConnection) -> None:
    no_declarations = evaluate.config.parse_config(b"")
    add_cert(con, B, spki=KEY_B, rule_id="e_sub_ca_ocsp_signing_eku")
    ccadb(con, {B: None})
    as_of = utc(2024, 1, 10)
    assessment = evaluate.evaluate(con, as_of, config=no_declarations, now=utc(2024, 1, 10, 1))
    (incident,) = assessment.incidents
    assert (incident.incident_id, incident.status) == (
        "e_sub_ca_ocsp_signing_eku:SECOM Trust Systems",
        "clock_not_started",
    )
    assert incident.root_stores == ("Chrome", "Mozilla")
    assert incident.first_detected_as_of is None  # found 2026: after this as-of
    events = con.execute("SELECT transition, historical FROM alert_outbox ORDER BY ALL").fetchall()
    assert events == [(Transition.CLOCK_NOT_STARTED, False), (Transition.NEW_INCIDENT, False)]
    evaluate.record_problem_report(
        con,
        report_id="msg-1",
        ca_owner="SECOM Trust Systems",
        sent_at=utc(2024, 1, 11),
        recipient="cps@secom",
    )
    later = evaluate.evaluate(con, utc(2024, 1, 20), config=no_declarations, now=utc(2024, 1, 20, 1))
    (started,) = later.incidents
    assert (started.clock_source, started.clock_start, started.deadline) == (
        "problem_report",
        utc(2024, 1, 11),
        utc(2024, 1, 18),
    )
    (verdict,) = later.verdicts
    assert (verdict.status, verdict.delay) == (Status.OVERDUE, timedelta(days=2))


def test_a_root_with_a_finding_is_an_action_item(
    con: duckdb.DuckDBPyConnection, config: EvaluationConfig
) -> None:
    add_cert(con, B, spki=KEY_B, kind=CertKind.ROOT)
    ccadb(con, {B: None})
    assessment = evaluate.evaluate(con, utc(2020, 7, 20), config=config, now=utc(2026, 1, 1))
    (verdict,) = assessment.verdicts
    assert (verdict.status, verdict.deadline) == (Status.ROOT_PROGRAM_ACTION, None)
    assert assessment.key_groups[0].roots_listed == 1


def test_explain_shows_the_evidence_chain(one: duckdb.DuckDBPyConnection, config: EvaluationConfig) -> None:
    observe(one, A, claimed=utc(2020, 7, 5), first=utc(2020, 7, 20, 6), absent=utc(2020, 7, 20))
    text = explain(one, A, utc(2020, 7, 15), config)
    assert f"incident {INCIDENT}" in text
    assert f"rule {RULE}: CA/Browser Forum" in text
    assert "clock start 2020-07-01T00:00:00Z: public disclosure (m.d.s.p, Ryan Sleevi)" in text
    assert "verdict overdue delay 7d 00:00:00" in text
    assert "crl (observer ctwatch): claimed 2020-07-05T00:00:00Z, first observed 2020-07-20T06:00:00Z" in text
    assert "[after the as-of: not used]" in text
