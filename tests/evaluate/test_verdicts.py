"""Verdicts against hand-computed expectations at every boundary.

The declared incident (conftest.CONFIG): clock start 2020-07-01T17:30:00Z, 7 days (BR 4.9.1.2) ->
deadline 2020-07-08T17:30:00Z; a CA certificate's revocation may reach the CRL 24 h later (BR 4.9.7)
-> publish-by 2020-07-09T17:30:00Z. CRL versions are real signed CRLs archived by the CRL archive.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ctwatch import evaluate
from ctwatch.alerts import Transition
from ctwatch.evaluate import Basis, EvaluationConfig, IncidentStatus, KeyDestruction, KeyGroupState, Status
from ctwatch.evaluate.config import ConfigError, parse_config
from ctwatch.evaluate.explain import explain
from ctwatch.evidence.bugzilla import Bug, BugComment
from ctwatch.evidence.revocation import SightingStatus, Snapshot, SourceName, StampKind
from ctwatch.revocation.disagreements import store_disagreements
from ctwatch.warehouse import ct_store, observations
from ctwatch.x509 import ParsedCert, analyse_der
from ctwatch.x509.model import CertKind
from tests.crl.factory import make_ca, make_crl
from tests.evaluate.conftest import CONFIG, OWNER, RULE, World, ccadb_record, revoked, utc

A = "a1" * 32  # JPRS-like G3, issued 2019
A_REISSUE = "a2" * 32  # same key, issued 2020-07-10
B = "b1" * 32
KEY_A = "ee" * 32
KEY_B = "dd" * 32
SERIAL_A = 0x1A
INCIDENT = f"ocsp-eku-2020:{OWNER}"
DEADLINE = utc(2020, 7, 8, 17, 30)
PUBLISH_BY = utc(2020, 7, 9, 17, 30)
S = timedelta(seconds=1)
H = timedelta(hours=1)
NOW = utc(2026, 1, 1)


def _verdict(world: World, config: EvaluationConfig, as_of: datetime, der: str = A) -> evaluate.Verdict:
    evaluate.evaluate(world.con, as_of, config=config, now=NOW)
    (found,) = [v for v in evaluate.verdicts(world.con, as_of) if v.der_sha256 == der]
    return found


@pytest.fixture
def one(world: World) -> World:
    world.add_cert(A, spki=KEY_A, serial=SERIAL_A)
    world.ccadb({A: "JPRS"})
    return world


# -- what settles, and publication judged from evidence --


@pytest.mark.parametrize(
    ("claimed", "absent_at", "listed_at", "status", "delay", "delay_max", "basis"),
    [
        # claimed exactly at the deadline, seen listed an hour later (before publish-by): on time
        (DEADLINE, utc(2020, 7, 7), DEADLINE + H, Status.REVOKED_ON_TIME, None, None, Basis.OBSERVED),
        # claimed one second late, published in time: late by the claim, exactly 1 s
        (DEADLINE + S, utc(2020, 7, 7), DEADLINE + H, Status.REVOKED_LATE, S, S, Basis.OBSERVED),
        # claimed one second before the deadline and first seen listed exactly at publish-by: on time
        (DEADLINE - S, DEADLINE, PUBLISH_BY, Status.REVOKED_ON_TIME, None, None, Basis.OBSERVED),
        # seen without it one second after publish-by, listed 2 h later: late by 1 s .. 2 h
        (utc(2020, 7, 7), PUBLISH_BY + S, PUBLISH_BY + 2 * H, Status.REVOKED_LATE, S, 2 * H, Basis.OBSERVED),
        # the CRL seen without it 3 h after deadline + 24 h: late, never on time
        (utc(2020, 7, 5), PUBLISH_BY + 3 * H, PUBLISH_BY + 9 * H,
         Status.REVOKED_LATE, 3 * H, 9 * H, Basis.OBSERVED),
        # a 5-day gap in ctwatch's own fetches, claimed on time: on time, the gap not charged
        (utc(2020, 7, 7), utc(2020, 7, 6), utc(2020, 7, 11), Status.REVOKED_ON_TIME, None, None,
         Basis.CLAIMED_ONLY),
        # both late: claim 07-20T00:00 - 07-08T17:30 = 11 d 6 h 30 min; publication proven late
        # 07-20T00:00 - 07-09T17:30 = 10 d 6 h 30 min .. 07-20T06:00 - 07-09T17:30 = 10 d 12 h 30 min
        (utc(2020, 7, 20), utc(2020, 7, 20), utc(2020, 7, 20, 6), Status.REVOKED_LATE,
         timedelta(days=11, hours=6, minutes=30), timedelta(days=11, hours=6, minutes=30), Basis.OBSERVED),
        # backdated: claimed on time, published 10 d 12 h 30 min late at the latest, 10 d 6 h 30 min at least
        (utc(2020, 7, 5), utc(2020, 7, 20), utc(2020, 7, 20, 6), Status.REVOKED_LATE,
         timedelta(days=10, hours=6, minutes=30), timedelta(days=10, hours=12, minutes=30), Basis.OBSERVED),
        # revoked before the clock start
        (utc(2020, 6, 20), utc(2020, 6, 19), utc(2020, 6, 21), Status.REVOKED_BEFORE_START, None, None,
         Basis.OBSERVED),
    ],
)  # fmt: skip
def test_publication_judged_from_observations(  # noqa: PLR0917 - pytest passes the parameters by name
    one: World, config: EvaluationConfig, claimed, absent_at, listed_at, status, delay, delay_max, basis
) -> None:
    one.crl(absent_at)
    one.crl(listed_at, [revoked(SERIAL_A, claimed)])
    verdict = _verdict(one, config, utc(2020, 7, 25))
    assert (verdict.deadline, verdict.publish_by) == (DEADLINE, PUBLISH_BY)
    assert (verdict.status, verdict.delay, verdict.delay_max, verdict.basis) == (
        status,
        delay,
        delay_max,
        basis,
    )
    assert verdict.revoked_at_claimed == claimed
    assert verdict.first_observed_revoked_at == listed_at
    assert verdict.last_observed_absent_at == absent_at
    assert (verdict.ca_owner, verdict.subordinate_ca_owner) == (OWNER, "JPRS")
    assert verdict.dns_names is None  # a CA certificate: n/a


def test_the_gap_is_shown_not_charged(one: World, config: EvaluationConfig) -> None:
    one.crl(utc(2020, 7, 6))
    one.crl(utc(2020, 7, 11), [revoked(SERIAL_A, utc(2020, 7, 7))])
    verdict = _verdict(one, config, utc(2020, 7, 25))
    assert "last seen without it 2020-07-06T00:00:00Z" in verdict.basis_text
    assert "rests on the CA's claimed revocation time 2020-07-07T00:00:00Z" in verdict.basis_text
    assert any("publication undetermined" in step for step in verdict.arithmetic)


def test_a_refetch_of_an_old_version_after_publish_by_proves_lateness(
    one: World, config: EvaluationConfig
) -> None:

    old = make_crl(one.root, utc(2020, 7, 6), [], crl_number=100)
    one.fetch(old, utc(2020, 7, 6))
    one.fetch(old, utc(2020, 7, 12))  # the same version still served after publish-by
    one.crl(utc(2020, 7, 13), [revoked(SERIAL_A, utc(2020, 7, 7))])
    verdict = _verdict(one, config, utc(2020, 7, 25))
    # 07-12T00:00 - 07-09T17:30 = 2 d 6 h 30 min; 07-13T00:00 - 07-09T17:30 = 3 d 6 h 30 min
    assert (verdict.status, verdict.delay, verdict.delay_max) == (
        Status.REVOKED_LATE,
        timedelta(days=2, hours=6, minutes=30),
        timedelta(days=3, hours=6, minutes=30),
    )


def test_an_ocsp_answer_saying_good_after_publish_by_proves_lateness(
    one: World, config: EvaluationConfig
) -> None:
    one.ocsp(A, utc(2020, 7, 10), SightingStatus.GOOD)
    one.ocsp(A, utc(2020, 7, 11), SightingStatus.REVOKED, claimed=utc(2020, 7, 8), reason="superseded")
    verdict = _verdict(one, config, utc(2020, 7, 25))
    # 07-10T00:00 - 07-09T17:30 = 6 h 30 min; 07-11T00:00 - 07-09T17:30 = 1 d 6 h 30 min
    assert (verdict.status, verdict.delay, verdict.delay_max, verdict.basis) == (
        Status.REVOKED_LATE,
        timedelta(hours=6, minutes=30),
        timedelta(days=1, hours=6, minutes=30),
        Basis.OBSERVED,
    )


def test_a_report_contradicted_by_the_cas_own_crl(one: World, config: EvaluationConfig) -> None:
    # Mozilla's report dates the revocation 2020-07-10; ctwatch fetched the CRL 07-15 without it.
    one.crl(utc(2020, 7, 1))
    one.report(A, utc(2020, 7, 12), source=SourceName.MOZILLA_REVOKED, claimed=utc(2020, 7, 10))
    one.crl(utc(2020, 7, 15))
    store_disagreements(one.con, utc(2020, 7, 25))
    verdict = _verdict(one, config, utc(2020, 7, 25))
    # 07-25T00:00 - 07-08T17:30 = 16 d 6 h 30 min overdue
    assert (verdict.status, verdict.delay, verdict.basis) == (
        Status.OVERDUE,
        timedelta(days=16, hours=6, minutes=30),
        Basis.REPORT_CONTRADICTED,
    )
    assert verdict.revoked_at_claimed is None
    assert "2020-07-15T00:00:00Z" in verdict.basis_text
    (kind,) = one.con.execute(
        "SELECT kind FROM revocation_disagreements WHERE der_sha256 = $d AND resolved_as_of IS NULL", {"d": A}
    ).fetchone() or ("none",)
    assert kind == "report_revoked_ca_channel_not"
    other = one.con.execute("SELECT other_side FROM revocation_disagreements WHERE der_sha256 = $d", {"d": A})
    other_side = other.fetchone()
    assert other_side is not None
    assert '"this_update": "2020-07-15T00:00:00+00:00"' in other_side[0]
    transitions = {
        row[0]
        for row in one.con.execute(
            "SELECT transition FROM alert_outbox WHERE der_sha256 = $d", {"d": A}
        ).fetchall()
    }
    assert Transition.SOURCES_DISAGREE in transitions
    text = explain(one.con, A, utc(2020, 7, 25), config)
    assert "checked, does not list it: CRL without it, seen by ctwatch" in text
    assert "thisUpdate 2020-07-15T00:00:00Z version sha256" in text
    # The CA lists it on 07-28 with revocationDate 07-10: its channel settles, the disagreement resolves.
    one.crl(utc(2020, 7, 28), [revoked(SERIAL_A, utc(2020, 7, 10))])
    store_disagreements(one.con, utc(2020, 8, 1))
    settled = _verdict(one, config, utc(2020, 8, 1))
    # claim 07-10T00:00 - 07-08T17:30 = 1 d 6 h 30 min; publication: seen without it 07-15T00:00,
    # 5 d 6 h 30 min after publish-by, listed 07-28T00:00, 18 d 6 h 30 min after it
    assert (settled.status, settled.delay, settled.delay_max, settled.basis) == (
        Status.REVOKED_LATE,
        timedelta(days=5, hours=6, minutes=30),
        timedelta(days=18, hours=6, minutes=30),
        Basis.OBSERVED,
    )
    resolved = one.con.execute(
        "SELECT resolved_as_of FROM revocation_disagreements WHERE der_sha256 = $d", {"d": A}
    ).fetchone()
    assert resolved == (utc(2020, 8, 1),)


@pytest.mark.parametrize(
    ("fetched_at", "status"),
    [
        (utc(2020, 7, 11), Status.REVOKED_LATE),  # exactly claimed + 24 h: not after it, stands
        (utc(2020, 7, 11) + S, Status.OVERDUE),  # one second later: contradicted
    ],
)
def test_the_publication_allowance_bounds_a_contradiction(
    one: World, config: EvaluationConfig, fetched_at, status
) -> None:
    one.report(A, utc(2020, 7, 12), source=SourceName.MOZILLA_REVOKED, claimed=utc(2020, 7, 10))
    one.crl(fetched_at)
    verdict = _verdict(one, config, utc(2020, 7, 25))
    assert verdict.status is status


def test_a_report_settles_history_nobody_watched(one: World, config: EvaluationConfig) -> None:
    one.report(A, utc(2020, 7, 12), source=SourceName.MOZILLA_REVOKED, claimed=utc(2020, 7, 10))
    verdict = _verdict(one, config, utc(2020, 7, 25))
    # 07-10T00:00 - 07-08T17:30 = 1 d 6 h 30 min, by the report
    assert (verdict.status, verdict.delay, verdict.basis) == (
        Status.REVOKED_LATE,
        timedelta(days=1, hours=6, minutes=30),
        Basis.REPORTED_ONLY,
    )
    assert "Mozilla's revoked-intermediates report says revoked" in verdict.basis_text
    assert "ctwatch never observed a covering CRL or OCSP answer" in verdict.basis_text


def test_a_ccadb_status_without_a_date_counts_from_its_first_sighting(
    one: World, config: EvaluationConfig
) -> None:
    one.report(A, utc(2020, 7, 20), source=SourceName.CCADB, claimed=None)
    verdict = _verdict(one, config, utc(2020, 7, 25))
    # 07-20T00:00 - 07-08T17:30 = 11 d 6 h 30 min
    assert (verdict.status, verdict.delay, verdict.basis) == (
        Status.REVOKED_LATE,
        timedelta(days=11, hours=6, minutes=30),
        Basis.REPORTED_ONLY,
    )


def test_a_crl_that_expired_with_the_certificate_does_not_contradict(
    world: World, config: EvaluationConfig
) -> None:
    world.add_cert(A, spki=KEY_A, serial=SERIAL_A, not_after=utc(2020, 7, 12))
    world.ccadb({A: None})
    world.report(A, utc(2020, 7, 20), source=SourceName.MOZILLA_REVOKED, claimed=utc(2020, 7, 10))
    world.crl(utc(2020, 7, 15))  # after notAfter: expired certificates fall off CRLs
    verdict = _verdict(world, config, utc(2020, 7, 25))
    assert (verdict.status, verdict.basis) == (Status.REVOKED_LATE, Basis.REPORTED_ONLY)


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (SourceName.ONECRL, "onecrl_without_ca_revocation"),
        (SourceName.CRLSET, "crlset_without_ca_revocation"),
    ],
)
def test_a_browser_block_never_settles(one: World, config: EvaluationConfig, source, kind) -> None:
    one.block(A, utc(2020, 7, 5), source=source)
    store_disagreements(one.con, utc(2020, 7, 25))
    verdict = _verdict(one, config, utc(2020, 7, 25))
    assert (verdict.status, verdict.delay, verdict.basis) == (
        Status.OVERDUE,
        timedelta(days=16, hours=6, minutes=30),
        Basis.NO_REVOCATION,
    )
    assert verdict.revoked_at_claimed is None
    (action,) = verdict.root_program_actions
    assert "blocks it since 2020-07-05T00:00:00Z" in action
    assert "not a revocation" in action
    (group,) = evaluate.key_group_status(one.con, utc(2020, 7, 25))
    assert group.status == KeyGroupState.OPEN
    found = one.con.execute(
        "SELECT kind FROM revocation_disagreements WHERE der_sha256 = $d AND resolved_as_of IS NULL", {"d": A}
    ).fetchall()
    assert found == [(kind,)]


def test_certificate_hold_is_no_revocation(one: World, config: EvaluationConfig) -> None:
    one.crl(utc(2020, 7, 5), [revoked(SERIAL_A, utc(2020, 7, 4), x509.ReasonFlags.certificate_hold)])
    verdict = _verdict(one, config, utc(2020, 7, 25))
    assert (verdict.status, verdict.delay, verdict.basis) == (
        Status.OVERDUE,
        timedelta(days=16, hours=6, minutes=30),
        Basis.CERTIFICATE_HOLD,
    )
    (finding,) = verdict.findings
    assert finding.startswith("certificate_hold: CRL lists it on hold (certificateHold")


# -- clocks --


def test_a_date_only_clock_start_is_refused() -> None:
    with pytest.raises(
        ConfigError,
        match=r"incidents\[0\]\.clock_start = 2020-07-01: expected an instant with a time zone, not a date, "
        r"e\.g\. 2020-07-01T17:30:00Z",
    ):
        parse_config(b'[[incidents]]\nid = "x"\nrule = "r"\nclock_start = 2020-07-01\nclock_source = "s"\n')
    with pytest.raises(ConfigError, match=r"expected a time with a time zone.*\(this one has none\)"):
        parse_config(
            b'[[incidents]]\nid = "x"\nrule = "r"\nclock_start = 2020-07-01T10:00:00\nclock_source = "s"\n'
        )


def test_the_polling_interval_is_gone() -> None:
    with pytest.raises(ConfigError, match="polling_interval_hours is not read"):
        parse_config(b"[polling_interval_hours]\ncrl = 4\n")


def test_listed_certificates_need_a_window_kind() -> None:
    with pytest.raises(
        ConfigError, match="window_kind is missing: it is required when certificates are listed"
    ):
        parse_config(
            b'[[incidents]]\nid = "x"\ncertificates = ["' + b"ab" * 32 + b'"]\n'
            b'clock_start = 2020-07-01T10:00:00Z\nclock_source = "s"\n'
        )


def _bug(world: World, bug_id: int, filed, *, summary: str, comments: list[tuple[object, str]] = ()) -> None:  # type: ignore[assignment]
    bug = Bug(
        bug_id=bug_id, summary=summary, whiteboard="[ca-compliance] [leaf-revocation-delay]",
        product="CA Program", component="CA Certificate Compliance", status="ASSIGNED", resolution=None,
        assigned_to="rep@ca.test", creator="rep@ca.test", creation_time=filed, last_change_time=filed,
        revocation_delay_tags=("leaf-revocation-delay",), ca_owner=OWNER,
    )  # fmt: skip
    observations.store_bugs(world.con, [bug], observed_at=filed, location="https://bugzilla.test")
    typed = [
        BugComment(bug_id * 10 + n, bug_id, n, "rep@ca.test", at, False, text)  # type: ignore[arg-type]
        for n, (at, text) in enumerate(comments)
    ]
    if typed:
        fetched = max(c.creation_time for c in typed)
        observations.store_bug_comments(
            world.con, bug_id, typed, (), fetched_at=fetched, new_since=None, location="https://bugzilla.test"
        )


def test_an_unrelated_bug_never_moves_a_declared_clock(one: World, config: EvaluationConfig) -> None:
    _bug(one, 1600001, utc(2020, 1, 15), summary="SECOM: delayed revocation of leaf certificates")
    verdict = _verdict(one, config, utc(2020, 7, 5))
    assert (verdict.status, verdict.deadline) == (Status.PENDING, DEADLINE)
    (incident,) = evaluate.incidents(one.con, utc(2020, 7, 5))
    assert (incident.clock_start, incident.clock_source) == (utc(2020, 7, 1, 17, 30), "public_disclosure")


def test_a_detected_incident_starts_only_from_a_bug_naming_it(world: World) -> None:
    nothing_declared = parse_config(b"")
    world.add_cert(A, spki=KEY_A, serial=SERIAL_A)
    world.ccadb({A: None})
    _bug(world, 1600001, utc(2020, 1, 15), summary="SECOM: delayed revocation of leaf certificates")
    as_of = utc(2020, 7, 5)
    evaluate.evaluate(world.con, as_of, config=nothing_declared, now=NOW)
    (incident,) = evaluate.incidents(world.con, as_of)
    assert (incident.clock_start, incident.status) == (None, IncidentStatus.CLOCK_NOT_STARTED)
    # a comment naming the certificate's SHA-256 starts the clock at the comment's time
    _bug(
        world, 1650910, utc(2020, 7, 3, 2, 14), summary="SECOM: intermediates with the OCSP signing EKU",
        comments=[(utc(2020, 7, 3, 2, 14), "Incident report to follow."),
                  (utc(2020, 7, 3, 9, 0), f"Affected: https://crt.sh/?sha256={A.upper()}")],
    )  # fmt: skip
    later = utc(2020, 7, 20)
    evaluate.evaluate(world.con, later, config=nothing_declared, now=NOW)
    (incident,) = evaluate.incidents(world.con, later)
    assert (incident.clock_start, incident.clock_source, incident.deadline) == (
        utc(2020, 7, 3, 9),
        "bugzilla_mention",
        utc(2020, 7, 10, 9),
    )


def test_a_detected_incident_starts_from_a_bug_filed_after_ctwatchs_detection(world: World) -> None:
    world.add_cert(A, spki=KEY_A, serial=SERIAL_A, found_as_of=utc(2020, 7, 2))
    world.ccadb({A: None})
    _bug(world, 1600001, utc(2020, 1, 15), summary="SECOM: delayed revocation of leaf certificates")
    _bug(world, 1650910, utc(2020, 7, 4, 8), summary="SECOM: intermediates with the OCSP signing EKU")
    assessment = evaluate.evaluate(world.con, utc(2020, 7, 20), config=parse_config(b""), now=NOW)
    (incident,) = assessment.incidents
    # detected 07-02; the January bug predates it, the 07-04T08:00 one does not
    assert incident.first_detected_as_of == utc(2020, 7, 2)
    assert (incident.clock_start, incident.clock_source, incident.deadline) == (
        utc(2020, 7, 4, 8), "bugzilla_filing", utc(2020, 7, 11, 8),
    )  # fmt: skip


# -- deadlines and scope --


def _first_logged(world: World, der_sha256: str, at: datetime) -> None:
    """The certificate's earliest CT entry carries timestamp `at` (entry 5 of a 10-entry log)."""
    ms = int(at.timestamp() * 1000)
    ct_store.record_sightings(
        world.con, [ct_store.CtSighting(der_sha256, "11" * 32, 5, ms, 10, ms, b"\x00" * 32)]
    )


def test_a_member_issued_after_the_clock_start_gets_its_own_window_from_issuance(
    one: World, config: EvaluationConfig
) -> None:

    one.add_cert(A_REISSUE, spki=KEY_A, serial=2, not_before=utc(2020, 7, 3), finding=False)
    _first_logged(one, A_REISSUE, utc(2020, 7, 20))  # logged 17 days after issuance
    verdict = _verdict(one, config, utc(2020, 7, 21), A_REISSUE)
    assert verdict.deadline == utc(2020, 7, 10)  # notBefore 07-03 + 7 d, not first CT 07-20 + 7 d
    assert (verdict.status, verdict.delay) == (Status.OVERDUE, timedelta(days=11))


def test_a_member_logged_before_its_notbefore_counts_from_the_log(
    one: World, config: EvaluationConfig
) -> None:

    one.add_cert(A_REISSUE, spki=KEY_A, serial=2, not_before=utc(2020, 7, 3), finding=False)
    _first_logged(one, A_REISSUE, utc(2020, 7, 2, 12))
    verdict = _verdict(one, config, utc(2020, 7, 21), A_REISSUE)
    assert verdict.deadline == utc(2020, 7, 9, 12)  # first CT 07-02T12:00 + 7 d


def test_a_member_issued_before_the_start_but_logged_later_gets_no_extra_time(
    one: World, config: EvaluationConfig
) -> None:

    logged_late = "a3" * 32
    one.add_cert(logged_late, spki=KEY_A, serial=3, not_before=utc(2020, 6, 1), finding=False)
    _first_logged(one, logged_late, utc(2020, 7, 7))
    verdict = _verdict(one, config, utc(2020, 7, 12), logged_late)
    assert verdict.first_ct_at == utc(2020, 7, 7)
    assert verdict.deadline == DEADLINE
    # 07-12T00:00 - 07-08T17:30 = 3 d 6 h 30 min
    assert (verdict.status, verdict.delay) == (Status.OVERDUE, timedelta(days=3, hours=6, minutes=30))


def test_key_groups_expand_only_where_the_key_must_be_destroyed(world: World) -> None:
    no_destruction = parse_config(
        b'[[incidents]]\nid = "x"\nrule = "e_ca_ocsp_signing_eku_without_nocheck"\n'
        b'clock_start = 2020-07-01T17:30:00Z\nclock_source = "s"\nkey_destruction_required = false\n'
    )
    world.add_cert(A, spki=KEY_A, serial=SERIAL_A)
    world.add_cert(A_REISSUE, spki=KEY_A, serial=2, finding=False)
    world.ccadb({A: None, A_REISSUE: None})
    assessment = evaluate.evaluate(world.con, utc(2020, 7, 20), config=no_destruction, now=NOW)
    assert [v.der_sha256 for v in assessment.verdicts] == [A]


def test_a_key_group_member_under_another_owner_is_that_owners_item(
    one: World, config: EvaluationConfig
) -> None:

    cross = "c1" * 32
    one.add_cert(cross, spki=KEY_A, serial=7, finding=False)
    other = replace(
        ccadb_record(cross, "Intermediate Certificate", None, one.root_sha), ca_owner="Other Trust"
    )
    records = [ccadb_record(one.root_sha, "Root Certificate", None, None),
               ccadb_record(A, "Intermediate Certificate", "JPRS", one.root_sha), other]  # fmt: skip
    snapshot = Snapshot(
        source=SourceName.CCADB, observer="ccadb", observed_at=utc(2020, 6, 30, 1),
        stamp_kind=StampKind.ARCHIVE, location="test", content_sha256="cross", lists_all_revoked=False,
        sightings=(),
    )  # fmt: skip
    observations.store_snapshot(one.con, snapshot, ccadb_records=records)
    verdict = _verdict(one, config, utc(2020, 7, 20), cross)
    assert (verdict.status, verdict.deadline, verdict.basis, verdict.ca_owner) == (
        Status.OTHER_OWNER,
        None,
        Basis.OTHER_OWNER,
        "Other Trust",
    )
    (group,) = evaluate.key_group_status(one.con, utc(2020, 7, 20))
    assert (group.members, group.open) == (2, 1)  # the other owner's certificate is not waited for


def _declared_owner(owner: str) -> EvaluationConfig:
    text = (
        CONFIG.decode()
        .replace('id = "ocsp-eku-2020"', 'id = "declared"')
        .replace('trust_scope = "root_store"', f'trust_scope = "any"\nca_owner = "{owner}"')
    )
    return parse_config(text.encode())


def test_a_declared_ca_owner_takes_its_certificates_and_those_ccadb_lacks(world: World) -> None:
    private = make_ca("Private Root")  # in no CCADB report: neither it nor its issuer is listed
    private_cert = analyse_der(private.cert.public_bytes(Encoding.DER))
    assert isinstance(private_cert, ParsedCert)
    world.add_cert(A, spki=KEY_A, serial=SERIAL_A)  # CCADB: SECOM's
    world.add_cert(B, spki=KEY_B, serial=0x1B, issuer=private_cert)
    world.ccadb({A: "JPRS"})
    as_of = utc(2020, 7, 20)
    # declared for SECOM: A is its incident's, deadline 07-01T17:30 + 7 d; B, unknown to CCADB,
    # is SECOM's too (the declared owner names it)
    secom = {v.der_sha256: v for v in _verdicts(world, _declared_owner(OWNER), as_of)}
    assert (secom[A].incident_id, secom[A].deadline) == (f"declared:{OWNER}", utc(2020, 7, 8, 17, 30))
    assert (secom[B].incident_id, secom[B].ca_owner) == (f"declared:{OWNER}", OWNER)
    # declared for another owner: A stays out of it (CCADB says SECOM: the rule's own incident, no
    # clock), B is the declared owner's
    other = {v.der_sha256: v for v in _verdicts(world, _declared_owner("Other Trust"), as_of)}
    assert (other[A].incident_id, other[A].basis, other[A].deadline) == (
        f"{RULE}:{OWNER}",
        Basis.NO_CLOCK,
        None,
    )
    assert (other[B].incident_id, other[B].deadline) == ("declared:Other Trust", utc(2020, 7, 8, 17, 30))


def _verdicts(world: World, config: EvaluationConfig, as_of: datetime) -> tuple[evaluate.Verdict, ...]:
    return evaluate.evaluate(world.con, as_of, config=config, now=NOW).verdicts


@pytest.mark.parametrize(
    ("not_after", "status", "delay"),
    [
        # notAfter is inclusive: at the as-of itself the certificate is still valid, overdue
        # 07-25T00:00 - 07-08T17:30 = 16 d 6 h 30 min
        (utc(2020, 7, 25), Status.OVERDUE, timedelta(days=16, hours=6, minutes=30)),
        # one second earlier it has expired: overdue for notAfter - deadline
        (utc(2020, 7, 25) - S, Status.EXPIRED_UNREVOKED, timedelta(days=16, hours=6, minutes=29, seconds=59)),
        # expired before the deadline: no delay
        (utc(2020, 7, 5), Status.EXPIRED_UNREVOKED, None),
    ],
)
def test_not_after_is_inclusive(world: World, config: EvaluationConfig, not_after, status, delay) -> None:
    world.add_cert(A, spki=KEY_A, serial=SERIAL_A, not_after=not_after)
    world.ccadb({A: None})
    verdict = _verdict(world, config, utc(2020, 7, 25))
    assert (verdict.status, verdict.delay) == (status, delay)


def test_pending_until_publish_by_then_overdue_since_the_deadline(
    one: World, config: EvaluationConfig
) -> None:
    assert _verdict(one, config, DEADLINE).status is Status.PENDING
    # past the deadline, a revocation made by then may still be published until publish-by
    within = _verdict(one, config, PUBLISH_BY)
    assert (within.status, within.delay) == (Status.PENDING, None)
    assert "may be published until 2020-07-09T17:30:00Z" in within.basis_text
    overdue = _verdict(one, config, PUBLISH_BY + S)
    assert (overdue.status, overdue.delay) == (Status.OVERDUE, timedelta(days=1, seconds=1))


def test_short_lived_subscriber_certificates_have_no_deadline(world: World) -> None:

    leaf = "f1" * 32
    # issued 2024-06-01, valid 7 days: short-lived (<= 10 days for issuance before 2026-03-15)
    world.add_cert(leaf, spki=KEY_B, serial=9, kind=CertKind.TLS_LEAF, not_before=utc(2024, 6, 1),
                   not_after=utc(2024, 6, 8), rule_id="e_sub_cert_ocsp_signing_eku")  # fmt: skip
    declared = parse_config(
        b'[[incidents]]\nid = "leaf"\ncertificates = ["' + leaf.encode() + b'"]\nwindow_kind = "subscriber"\n'
        b'reason = "not_issued_per_requirements"\nclock_start = 2024-06-02T08:00:00Z\nclock_source = "s"\n'
    )
    assessment = evaluate.evaluate(world.con, utc(2024, 6, 5), config=declared, now=NOW)
    (verdict,) = assessment.verdicts
    assert (verdict.status, verdict.deadline, verdict.basis) == (Status.NO_DEADLINE, None, Basis.NO_WINDOW)
    assert verdict.basis_text.startswith("Short-lived Subscriber Certificate")


def test_a_kind_without_a_br_window_says_so(world: World) -> None:

    responder = "d7" * 32
    world.add_cert(responder, spki=KEY_B, serial=9, kind=CertKind.OCSP_RESPONDER,
                   rule_id="e_ocsp_responder_missing_nocheck")  # fmt: skip
    world.ccadb({responder: None})
    evaluate.record_problem_report(
        world.con, report_id="msg-1", ca_owner=OWNER, sent_at=utc(2024, 1, 11),
        recorded_at=utc(2024, 1, 11, 1), recipient="cps@secom",
    )  # fmt: skip
    assessment = evaluate.evaluate(world.con, utc(2024, 1, 20), config=parse_config(b""), now=NOW)
    (incident,) = assessment.incidents
    (verdict,) = assessment.verdicts
    assert (incident.status, incident.clock_start) == (IncidentStatus.NO_WINDOW, utc(2024, 1, 11))
    assert (verdict.status, verdict.basis) == (Status.NO_DEADLINE, Basis.NO_WINDOW)
    assert "BR 4.9.1 sets no revocation window for ocsp_responder" in verdict.basis_text


def test_problem_reports_count_from_when_they_were_recorded(world: World) -> None:
    world.add_cert(B, spki=KEY_B, serial=9, rule_id="e_sub_ca_ocsp_signing_eku")
    world.ccadb({B: None})
    evaluate.record_problem_report(
        world.con, report_id="msg-1", ca_owner=OWNER, sent_at=utc(2024, 1, 11), recorded_at=utc(2024, 1, 15),
        recipient="cps@secom",
    )  # fmt: skip
    nothing = parse_config(b"")
    before = evaluate.evaluate(world.con, utc(2024, 1, 14), config=nothing, now=NOW)
    assert before.incidents[0].clock_start is None  # sent the 11th, but recorded only the 15th
    after = evaluate.evaluate(world.con, utc(2024, 1, 20), config=nothing, now=NOW)
    assert (after.incidents[0].clock_start, after.incidents[0].deadline) == (
        utc(2024, 1, 11),
        utc(2024, 1, 18),
    )
    (verdict,) = after.verdicts
    assert (verdict.status, verdict.delay) == (Status.OVERDUE, timedelta(days=2))


# -- key groups --


def test_key_group_closure_and_key_destruction_counted_from_its_recording(
    one: World, config: EvaluationConfig
) -> None:
    one.add_cert(A_REISSUE, spki=KEY_A, serial=2, not_before=utc(2020, 7, 10), finding=False)
    one.crl(utc(2020, 7, 4))
    one.crl(utc(2020, 7, 5, 2), [revoked(SERIAL_A, utc(2020, 7, 5))])
    one.crl(utc(2021, 3, 9), [revoked(SERIAL_A, utc(2020, 7, 5))])
    one.crl(utc(2021, 3, 9, 3), [revoked(SERIAL_A, utc(2020, 7, 5)), revoked(2, utc(2021, 3, 9))])
    as_of = utc(2021, 3, 20)
    evaluate.evaluate(one.con, as_of, config=config, now=NOW)
    (group,) = evaluate.key_group_status(one.con, as_of)
    assert (group.status, group.revoked, group.open, group.members, group.closed_at) == (
        KeyGroupState.AWAITING_KEY_DESTRUCTION, 2, 0, 2, None,
    )  # fmt: skip
    assert evaluate.incidents(one.con, as_of)[0].status == IncidentStatus.AWAITING_KEY_DESTRUCTION
    # destroyed 2021-03-31, but the attestation was recorded only on 2021-04-10
    evaluate.record_key_destruction(
        one.con,
        KeyDestruction(KEY_A, utc(2021, 3, 31), "Auditor KK", "https://example/audit", utc(2021, 4, 10)),
    )
    evaluate.evaluate(one.con, utc(2021, 4, 5), config=config, now=NOW)
    assert (
        evaluate.key_group_status(one.con, utc(2021, 4, 5))[0].status
        == KeyGroupState.AWAITING_KEY_DESTRUCTION
    )
    later = utc(2021, 4, 11)
    evaluate.evaluate(one.con, later, config=config, now=NOW)
    (closed,) = evaluate.key_group_status(one.con, later)
    # The re-issue (issued 07-10): deadline 07-17T00:00, revoked 2021-03-09: the claim is 235 d late
    # (publication, seen without it 2021-03-09T00:00 after publish-by 07-18T00:00, proves 234 d).
    # Closure: the destruction 2021-03-31 is the latest; earliest deadline 2020-07-08T17:30 ->
    # 265 d 6 h 30 min.
    assert (closed.status, closed.key_destruction_auditor) == (KeyGroupState.CLOSED, "Auditor KK")
    assert (closed.earliest_deadline, closed.closed_at) == (DEADLINE, utc(2021, 3, 31))
    assert closed.closure_delay == timedelta(days=265, hours=6, minutes=30)
    reissue = next(v for v in evaluate.verdicts(one.con, later) if v.der_sha256 == A_REISSUE)
    assert (reissue.deadline, reissue.status, reissue.delay) == (
        utc(2020, 7, 17), Status.REVOKED_LATE, timedelta(days=235),
    )  # fmt: skip
    assert evaluate.incidents(one.con, later)[0].status == IncidentStatus.CLOSED


def test_as_of_excludes_later_observations(one: World, config: EvaluationConfig) -> None:
    one.crl(utc(2020, 7, 20))
    one.crl(utc(2020, 7, 20, 6), [revoked(SERIAL_A, utc(2020, 7, 5))])
    before = _verdict(one, config, utc(2020, 7, 15))
    # 07-15T00:00 - 07-08T17:30 = 6 d 6 h 30 min
    assert (before.status, before.delay) == (Status.OVERDUE, timedelta(days=6, hours=6, minutes=30))
    assert _verdict(one, config, utc(2020, 7, 21)).status is Status.REVOKED_LATE
    assert evaluate.verdicts(one.con, utc(2020, 7, 15)) == [before]


def _tables(world: World) -> list[object]:
    return [
        world.con.execute(f"SELECT * EXCLUDE ({skip}) FROM {table} ORDER BY ALL").fetchall()
        for table, skip in (
            ("compliance_incidents", "as_of"),
            ("compliance_verdicts", "as_of"),
            ("compliance_key_groups", "as_of"),
            ("compliance_runs", "evaluated_at"),
            ("alert_outbox", "enqueued_at, enqueue_seq"),
        )
    ]


def test_same_as_of_twice_changes_nothing(one: World, config: EvaluationConfig) -> None:
    one.crl(utc(2020, 7, 20))
    one.crl(utc(2020, 7, 20, 6), [revoked(SERIAL_A, utc(2020, 7, 5))])
    evaluate.evaluate(one.con, utc(2020, 7, 21), config=config, now=NOW)
    first = _tables(one)
    evaluate.evaluate(one.con, utc(2020, 7, 21), config=config, now=NOW)
    assert _tables(one) == first
    transitions = {row[0] for row in one.con.execute("SELECT transition FROM alert_outbox").fetchall()}
    assert transitions == {Transition.NEW_INCIDENT, Transition.REVOKED_LATE}
    assert one.con.execute("SELECT bool_and(historical) FROM alert_outbox").fetchone() == (True,)


def test_out_of_store_findings_are_not_incidents_of_a_root_store_declaration(
    world: World, config: EvaluationConfig
) -> None:
    world.add_cert(B, spki=KEY_B, serial=9)  # no CCADB snapshot at all
    assessment = evaluate.evaluate(world.con, utc(2020, 7, 10), config=config, now=NOW)
    assert assessment.incidents == ()
    assert [(o.der_sha256, o.rule_id) for o in assessment.out_of_scope] == [(B, RULE)]
    assert "no root store includes its chain" in assessment.out_of_scope[0].why
    assert "no CCADB snapshot by the as-of" in assessment.out_of_scope[0].why


def test_a_root_with_a_finding_is_an_action_item(world: World, config: EvaluationConfig) -> None:

    world.add_cert(B, spki=KEY_B, serial=9, kind=CertKind.ROOT)
    world.ccadb({B: None})
    assessment = evaluate.evaluate(world.con, utc(2020, 7, 20), config=config, now=NOW)
    (verdict,) = assessment.verdicts
    assert (verdict.status, verdict.deadline) == (Status.ROOT_PROGRAM_ACTION, None)
    assert assessment.key_groups[0].roots_listed == 1


def test_explain_shows_the_evidence_chain(one: World, config: EvaluationConfig) -> None:
    one.crl(utc(2020, 7, 20))
    one.crl(utc(2020, 7, 20, 6), [revoked(SERIAL_A, utc(2020, 7, 5))])
    text = explain(one.con, A, utc(2020, 7, 15), config)
    assert f"incident {INCIDENT}" in text
    assert "rule e_ca_ocsp_signing_eku_without_nocheck: CA/Browser Forum" in text
    assert "clock start 2020-07-01T17:30:00Z: public disclosure (m.d.s.p, Ryan Sleevi)" in text
    assert "verdict overdue delay 6d 06:30:00" in text
    assert "crl (observer ctwatch): claimed 2020-07-05T00:00:00Z" in text
    assert "[after the as-of: not used]" in text
    assert explain(one.con, "99" * 32, utc(2020, 7, 15), config).endswith(
        "is not in the warehouse: nothing to explain"
    )
