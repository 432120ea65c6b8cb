"""BR revocation windows: every effective-date boundary, reasons, exemptions and deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ctwatch.policy import (
    CRLReason,
    Deadline,
    RevocationReason,
    WindowKind,
    deadline,
    revocation_window,
    validity_period_s,
)
from ctwatch.x509.model import CertKind

R = RevocationReason
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
SC6 = datetime(2018, 10, 14, tzinfo=UTC)
SC061 = datetime(2023, 7, 15, tzinfo=UTC)
SC063 = datetime(2024, 3, 15, tzinfo=UTC)
SEVEN_DAY_LIMIT = datetime(2026, 3, 15, tzinfo=UTC)
BR_1_0 = datetime(2012, 7, 1, tzinfo=UTC)
JULY_2020 = datetime(2020, 7, 2, tzinfo=UTC)

# BR 7.2.2 CRLReasons table (v2.2.6): the codes a BR CRL entry may carry (certificateHold, 6, is in
# the table only to be forbidden; unspecified, 0, is the omitted reasonCode).
BR_7_2_2_CRL_REASONS = frozenset({0, 1, 3, 4, 5, 9})


def subscriber(reason, at, **kwargs):
    return revocation_window(WindowKind.SUBSCRIBER, reason, at, **kwargs)


@pytest.mark.parametrize("at", [BR_1_0, JULY_2020, datetime(2026, 11, 27, tzinfo=UTC)])
@pytest.mark.parametrize("reason", [*RevocationReason, None])
def test_subordinate_ca_gets_seven_days_for_every_reason(at, reason):
    answer = revocation_window(WindowKind.SUBORDINATE_CA, reason, at)
    assert answer.window == timedelta(days=7)
    assert answer.publication_allowance == timedelta(hours=24)
    assert answer.citation.section == "4.9.1.2"
    assert "seven (7) days" in answer.rule_text


def test_ocsp_eku_sub_ca_in_july_2020_is_item_5_of_4_9_1_2():
    answer = revocation_window(CertKind.SUB_CA, R.NOT_ISSUED_PER_REQUIREMENTS, JULY_2020)
    assert (answer.window_kind, answer.br_item, answer.text_version) == (
        WindowKind.SUBORDINATE_CA,
        "4.9.1.2 #5",
        "BR 1.7.0",
    )
    assert answer.publication_citation.section == "4.9.7"


def test_reason_not_listed_for_sub_cas_keeps_seven_days_without_item():
    answer = revocation_window(WindowKind.SUBORDINATE_CA, R.WILDCARD_MISLEADING, JULY_2020)
    assert (answer.window, answer.br_item) == (timedelta(days=7), None)


def test_before_sc6_every_subscriber_reason_is_24_hours():
    answer = subscriber(R.NOT_ISSUED_PER_REQUIREMENTS, SC6 - SECOND)
    assert answer.window == timedelta(hours=24)
    assert answer.text_version == "BR 1.6.0"
    assert answer.br_item is None


def test_sc6_boundary_splits_the_tiers():
    assert subscriber(R.NOT_ISSUED_PER_REQUIREMENTS, SC6).window == timedelta(days=5)
    assert subscriber(R.KEY_COMPROMISE, SC6).window == timedelta(hours=24)


def test_sc6_numbering_has_two_lists():
    assert subscriber(R.NOT_ISSUED_PER_REQUIREMENTS, JULY_2020).br_item == "4.9.1.1 5-day list #7"
    assert subscriber(R.DOMAIN_VALIDATION_UNRELIABLE, JULY_2020).br_item == "4.9.1.1 24-hour list #4"
    answer = subscriber(R.NOT_ISSUED_PER_REQUIREMENTS, JULY_2020)
    assert answer.crl_reason is None
    assert "MUST revoke a Certificate within 5 days" in answer.rule_text


def test_sc061_renumbers_and_adds_crl_reasons():
    before = subscriber(R.NOT_ISSUED_PER_REQUIREMENTS, SC061 - SECOND)
    after = subscriber(R.NOT_ISSUED_PER_REQUIREMENTS, SC061)
    assert (before.br_item, before.crl_reason, before.text_version) == (
        "4.9.1.1 5-day list #7",
        None,
        "BR 1.7.0",
    )
    assert (after.br_item, after.crl_reason, after.text_version) == (
        "4.9.1.1 #12",
        CRLReason.SUPERSEDED,
        "BR 1.8.7",
    )
    assert after.window == timedelta(days=5)


@pytest.mark.parametrize(
    ("reason", "item", "window"),
    [
        (R.SUBSCRIBER_REQUEST, 1, timedelta(hours=24)),
        (R.KEY_EASILY_COMPUTED, 4, timedelta(hours=24)),
        (R.DOMAIN_VALIDATION_UNRELIABLE, 5, timedelta(hours=24)),
        (R.KEY_NONCOMPLIANT, 6, timedelta(days=5)),
        (R.KEY_EXPOSURE_METHOD, 16, timedelta(days=5)),
    ],
)
def test_current_tier_boundary_is_after_item_5(reason, item, window):
    answer = subscriber(reason, datetime(2026, 11, 27, tzinfo=UTC))
    assert (answer.br_item, answer.window) == (f"4.9.1.1 #{item}", window)
    assert answer.crl_reason in BR_7_2_2_CRL_REASONS


def test_unknown_subscriber_reason_gets_the_shortest_window():
    answer = subscriber(None, JULY_2020)
    assert (answer.window, answer.br_item) == (timedelta(hours=24), None)


def test_subscriber_publication_is_inside_the_window():
    answer = subscriber(R.KEY_COMPROMISE, JULY_2020)
    assert answer.publication_allowance == timedelta(0)
    assert answer.publication_citation.section == "4.9.5"


@pytest.mark.parametrize(
    ("issued_at", "validity_s", "exempt"),
    [
        (SC063, 864_000, True),
        (SC063, 864_001, False),
        (SC063 - SECOND, 864_000, False),
        (SEVEN_DAY_LIMIT - SECOND, 864_000, True),
        (SEVEN_DAY_LIMIT, 864_000, False),
        (SEVEN_DAY_LIMIT, 604_800, True),
        (SEVEN_DAY_LIMIT, 604_801, False),
    ],
)
def test_short_lived_exemption_depends_on_issuance_date_and_validity(issued_at, validity_s, exempt):
    answer = subscriber(R.KEY_COMPROMISE, issued_at + DAY, validity_s=validity_s, issued_at=issued_at)
    assert (answer.window is None) is exempt
    if exempt:
        assert "Short-lived" in (answer.exempt_reason or "")
        assert deadline(issued_at + DAY, answer) is None


def test_short_lived_exemption_needs_both_validity_and_issuance_date():
    assert subscriber(R.KEY_COMPROMISE, SC063 + DAY, validity_s=3600).window == timedelta(hours=24)


def test_validity_period_is_inclusive():
    assert validity_period_s(SC063, SC063 + timedelta(days=10) - SECOND) == 864_000


@pytest.mark.parametrize("kind", [CertKind.ROOT, CertKind.OCSP_RESPONDER, CertKind.OTHER_LEAF])
def test_kinds_without_a_br_window(kind):
    answer = revocation_window(kind, R.KEY_COMPROMISE, JULY_2020)
    assert answer.window is None
    assert kind.value in (answer.exempt_reason or "")


def test_cert_kinds_map_to_their_section():
    assert revocation_window(CertKind.TC_SUB_CA, None, JULY_2020).window_kind is WindowKind.SUBORDINATE_CA
    assert revocation_window(CertKind.TLS_LEAF, None, JULY_2020).window_kind is WindowKind.SUBSCRIBER


def test_no_window_before_the_brs():
    answer = revocation_window(WindowKind.SUBORDINATE_CA, None, BR_1_0 - SECOND)
    assert answer.window is None
    assert revocation_window(WindowKind.SUBORDINATE_CA, None, BR_1_0).window == timedelta(days=7)


def test_deadline_adds_window_then_publication_allowance():
    start = datetime(2020, 7, 2, 23, 13, tzinfo=UTC)
    answer = revocation_window(WindowKind.SUBORDINATE_CA, R.NOT_ISSUED_PER_REQUIREMENTS, start)
    assert deadline(start, answer) == Deadline(
        revoke_by=datetime(2020, 7, 9, 23, 13, tzinfo=UTC),
        publish_by=datetime(2020, 7, 10, 23, 13, tzinfo=UTC),
    )


def test_naive_datetimes_are_refused():
    naive = datetime(2020, 7, 2)
    with pytest.raises(ValueError, match="timezone-aware"):
        revocation_window(WindowKind.SUBSCRIBER, None, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        subscriber(None, JULY_2020, validity_s=1, issued_at=naive)
    answer = subscriber(None, JULY_2020)
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(naive, answer)
