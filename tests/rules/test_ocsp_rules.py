"""Behaviour of the OCSP-signing rules through ctwatch.rules.evaluate, at every date boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ctwatch.rules import RuleContext, Severity, evaluate
from ctwatch.x509.model import CertKind
from tests.rules.factory import make_cert

AS_OF = datetime(2026, 11, 27, tzinfo=UTC)
ONE_SECOND = timedelta(seconds=1)
SC062 = datetime(2023, 9, 15, tzinfo=UTC)
BR_1_0 = datetime(2012, 7, 1, tzinfo=UTC)
RFC_6960 = datetime(2013, 6, 1, tzinfo=UTC)
CROSS = RuleContext(is_cross_certificate=True)
NOT_CROSS = RuleContext()


def rule_ids(cert, as_of=AS_OF, context=NOT_CROSS):
    return [finding.rule_id for finding in evaluate(cert, as_of=as_of, context=context)]


@pytest.mark.parametrize(
    "kind", [CertKind.ROOT, CertKind.SUB_CA, CertKind.TC_SUB_CA, CertKind.PRECERT_SIGNING_CA]
)
def test_ca_with_ocsp_signing_and_no_nocheck_breaks_4_9_9(kind):
    cert = make_cert(kind=kind, ocsp_signing=True, not_before=datetime(2016, 1, 1, tzinfo=UTC))
    assert rule_ids(cert) == ["e_ca_ocsp_signing_eku_without_nocheck"]


def test_4_9_9_duty_starts_on_br_1_0_effective_day_whenever_the_cert_was_issued():
    cert = make_cert(ocsp_signing=True, not_before=datetime(2004, 1, 1, tzinfo=UTC))
    assert rule_ids(cert, as_of=BR_1_0) == ["e_ca_ocsp_signing_eku_without_nocheck"]
    assert rule_ids(cert, as_of=BR_1_0 - ONE_SECOND) == []


def test_evaluation_date_in_another_zone_is_compared_in_utc():
    two_hours_east = timezone(timedelta(hours=2))
    cert = make_cert(ocsp_signing=True)
    # 01:00 at +02:00 is still 2012-06-30 in UTC.
    assert rule_ids(cert, as_of=datetime(2012, 7, 1, 1, 0, tzinfo=two_hours_east)) == []
    assert rule_ids(cert, as_of=datetime(2012, 7, 1, 2, 0, tzinfo=two_hours_east)) != []


def test_ca_with_ocsp_signing_and_nocheck_is_a_warning_not_the_4_9_9_error():
    cert = make_cert(ocsp_signing=True, ocsp_nocheck=True)
    findings = evaluate(cert, as_of=AS_OF)
    assert [(f.rule_id, f.severity) for f in findings] == [
        ("w_ca_ocsp_signing_eku_with_nocheck", Severity.WARNING)
    ]
    assert rule_ids(cert, as_of=RFC_6960 - ONE_SECOND) == []
    assert rule_ids(cert, as_of=RFC_6960) == ["w_ca_ocsp_signing_eku_with_nocheck"]


@pytest.mark.parametrize("kind", [CertKind.SUB_CA, CertKind.TC_SUB_CA, CertKind.PRECERT_SIGNING_CA])
def test_sub_ca_profile_rule_applies_from_sc062_by_not_before(kind):
    on_the_day = make_cert(kind=kind, ocsp_signing=True, not_before=SC062)
    the_second_before = make_cert(kind=kind, ocsp_signing=True, not_before=SC062 - ONE_SECOND)
    assert rule_ids(on_the_day) == ["e_ca_ocsp_signing_eku_without_nocheck", "e_sub_ca_ocsp_signing_eku"]
    assert rule_ids(the_second_before) == ["e_ca_ocsp_signing_eku_without_nocheck"]


def test_sub_ca_profile_rule_does_not_depend_on_the_evaluation_date():
    cert = make_cert(ocsp_signing=True, ocsp_nocheck=True, not_before=SC062)
    assert "e_sub_ca_ocsp_signing_eku" in rule_ids(cert, as_of=datetime(2040, 1, 1, tzinfo=UTC))


def test_sub_ca_profile_rule_is_not_for_roots():
    root = make_cert(kind=CertKind.ROOT, ocsp_signing=True, not_before=SC062)
    assert rule_ids(root) == ["e_ca_ocsp_signing_eku_without_nocheck"]


def test_cross_certificate_gets_the_warning_instead_of_the_sub_ca_error():
    cert = make_cert(ocsp_signing=True, not_before=SC062)
    assert rule_ids(cert, context=CROSS) == [
        "e_ca_ocsp_signing_eku_without_nocheck",
        "w_cross_ca_ocsp_signing_eku",
    ]
    before = make_cert(ocsp_signing=True, not_before=SC062 - ONE_SECOND)
    assert rule_ids(before, context=CROSS) == ["e_ca_ocsp_signing_eku_without_nocheck"]


def test_cross_warning_is_only_for_cross_certificates():
    cert = make_cert(ocsp_signing=True, ocsp_nocheck=True, not_before=SC062)
    assert "w_cross_ca_ocsp_signing_eku" not in rule_ids(cert)


def test_ocsp_responder_without_nocheck_is_flagged_on_any_evaluation_date_from_br_1_0():
    responder = make_cert(
        kind=CertKind.OCSP_RESPONDER,
        is_ca=False,
        eku_oids=("1.3.6.1.5.5.7.3.9",),
        not_before=datetime(2009, 6, 10, tzinfo=UTC),
    )
    assert rule_ids(responder) == ["e_ocsp_responder_missing_nocheck"]
    assert rule_ids(responder, as_of=BR_1_0) == ["e_ocsp_responder_missing_nocheck"]
    assert rule_ids(responder, as_of=BR_1_0 - ONE_SECOND) == []


def test_ocsp_responder_with_nocheck_is_clean():
    responder = make_cert(
        kind=CertKind.OCSP_RESPONDER, is_ca=False, eku_oids=("1.3.6.1.5.5.7.3.9",), ocsp_nocheck=True
    )
    assert rule_ids(responder) == []


def test_tls_leaf_with_ocsp_signing_applies_from_sc062_by_not_before():
    leaf = make_cert(kind=CertKind.TLS_LEAF, is_ca=False, ocsp_signing=True, not_before=SC062)
    assert rule_ids(leaf) == ["e_sub_cert_ocsp_signing_eku"]
    older = make_cert(kind=CertKind.TLS_LEAF, is_ca=False, ocsp_signing=True, not_before=SC062 - ONE_SECOND)
    assert rule_ids(older) == []


def test_other_leaf_with_ocsp_signing_is_outside_the_tls_rules():
    leaf = make_cert(kind=CertKind.OTHER_LEAF, is_ca=False, ocsp_signing=True, not_before=SC062)
    assert rule_ids(leaf) == []


def test_unknown_not_before_skips_profile_rules_but_not_duties():
    cert = make_cert(ocsp_signing=True, not_before=None)
    assert rule_ids(cert) == ["e_ca_ocsp_signing_eku_without_nocheck"]
    leaf = make_cert(kind=CertKind.TLS_LEAF, is_ca=False, ocsp_signing=True, not_before=None)
    assert rule_ids(leaf) == []


def test_expired_certificate_still_gets_its_finding():
    cert = make_cert(ocsp_signing=True, not_after=datetime(2017, 12, 13, tzinfo=UTC))
    assert rule_ids(cert) == ["e_ca_ocsp_signing_eku_without_nocheck"]


def test_ca_without_ocsp_signing_has_no_finding():
    assert rule_ids(make_cert(not_before=SC062)) == []


def test_finding_names_the_certificate_and_explains_in_plain_words():
    cert = make_cert(ocsp_signing=True, der_sha256="cd" * 32, subject_rfc4514="CN=<script>")
    (finding,) = evaluate(cert, as_of=AS_OF)
    assert finding.der_sha256 == "cd" * 32
    assert finding.severity is Severity.ERROR
    assert "nocheck" in finding.detail
    assert "<script>" not in finding.detail


def test_naive_evaluation_date_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(make_cert(), as_of=datetime(2026, 1, 1))
