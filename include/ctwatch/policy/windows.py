"""BR revocation windows, versioned by effective date, with the text they come from.

One question, one answer: `revocation_window(kind, reason, at)` says how long a CA had to revoke when
the clock started at `at`, and `deadline(clock_start, answer)` turns that into instants.

Text versions (a date-only effective date means 00:00 UTC):

| kind | from | window | text |
|---|---|---|---|
| subordinate CA | 2012-07-01 | 7 days, every reason | BR 1.7.0 §4.9.1.2 (same meaning in 2.2.6) |
| subscriber | 2012-07-01 | 24 hours, every reason | before SC6 (v1.6.1) |
| subscriber | 2018-10-14 | 24 h for the 24-hour list, 5 days for the rest | SC6; BR 1.7.0 §4.9.1.1 |
| subscriber | 2023-07-15 | same tiers, CRLReason per item, items 1..16 | SC061; BR 1.8.7 |
| subscriber | 2024-03-15 | same, short-lived certificates exempt | SC063; BR 2.0.1 |

Only the texts of BR 1.7.0 and 2.2.6 were read; the rows before 1.7.0 rest on the ballot history
(SC6 created the 5-day tier; before it, one 24-hour list) and assume the 7-day sub-CA sentence.

Publication: BR 4.9.7 lets a CA publish a Subordinate CA revocation on its CRL (and OCSP, 4.9.10 in
1.7.0, 4.9.9 in 2.x) up to 24 hours after revoking. For a subscriber certificate, 4.9.5 counts the
4.9.1.1 window up to *published* revocation, so there is no extra allowance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Final

from ctwatch.evidence.revocation import CRLReason
from ctwatch.policy.reasons import (
    SC061_SUBSCRIBER_24H_LAST_ITEM,
    SC061_SUBSCRIBER_ITEMS,
    SC6_SUBSCRIBER_5D_ITEMS,
    SC6_SUBSCRIBER_24H_ITEMS,
    SUBORDINATE_CA_ITEMS,
    RevocationReason,
)
from ctwatch.rules import Citation
from ctwatch.rules.documents import BR, BR_1_0_EFFECTIVE, BR_1_7_0_URL
from ctwatch.timeutil import day_start, require_aware
from ctwatch.x509.model import CertKind

SC6_EFFECTIVE: Final = date(2018, 10, 14)
SC061_EFFECTIVE: Final = date(2023, 7, 15)
SC063_EFFECTIVE: Final = date(2024, 3, 15)
# From this issuance date a Short-lived Subscriber Certificate is one of at most 7 days (BR 1.6.1).
SHORT_LIVED_7_DAYS_FROM: Final = date(2026, 3, 15)
SHORT_LIVED_MAX_S_UNTIL_2026: Final = 864_000  # 10 days
SHORT_LIVED_MAX_S_FROM_2026: Final = 604_800  # 7 days

SUBSCRIBER_FAST: Final = timedelta(hours=24)
SUBSCRIBER_SLOW: Final = timedelta(days=5)
SUBORDINATE_CA_WINDOW: Final = timedelta(days=7)
SUBORDINATE_CA_PUBLICATION: Final = timedelta(hours=24)


class WindowKind(StrEnum):
    """Which BR revocation section applies: 4.9.1.1 (subscriber) or 4.9.1.2 (subordinate CA)."""

    SUBSCRIBER = "subscriber"
    SUBORDINATE_CA = "subordinate_ca"


_KIND_OF_CERT: Final = {
    CertKind.SUB_CA: WindowKind.SUBORDINATE_CA,
    CertKind.TC_SUB_CA: WindowKind.SUBORDINATE_CA,
    CertKind.PRECERT_SIGNING_CA: WindowKind.SUBORDINATE_CA,
    CertKind.TLS_LEAF: WindowKind.SUBSCRIBER,
}


@dataclass(frozen=True, slots=True)
class WindowAnswer:
    """How long the CA had to revoke, and on what text that rests.

    `window` None means no window: `exempt_reason` says why (short-lived certificate, a kind BR 4.9.1
    does not cover, a date before the BRs). `br_item` names the item of the text in force, e.g.
    "4.9.1.1 #12" or "4.9.1.1 5-day list #7"; None when the reason is not given or not listed.
    `crl_reason` is the CRLReason the text prescribes for that item (subscriber, from SC061).
    """

    window_kind: WindowKind | None
    reason: RevocationReason | None
    window: timedelta | None
    exempt_reason: str | None
    citation: Citation
    text_version: str
    rule_text: str
    br_item: str | None
    crl_reason: CRLReason | None
    publication_allowance: timedelta
    publication_citation: Citation


@dataclass(frozen=True, slots=True)
class Deadline:
    """`revoke_by`: latest revocation time; `publish_by`: latest time it must be visible on CRL/OCSP."""

    revoke_by: datetime
    publish_by: datetime


def _aware(name: str, moment: datetime) -> datetime:
    return require_aware(moment, name).astimezone(UTC)


def validity_period_s(not_before: datetime, not_after: datetime) -> int:
    """BR 1.6.1 Validity Period in seconds: notBefore through notAfter *inclusive*, hence the +1."""
    return int((_aware("not_after", not_after) - _aware("not_before", not_before)).total_seconds()) + 1


_SUBORDINATE_CITATION: Final = Citation(
    BR, "1.7.0", "4.9.1.2", f"{BR_1_7_0_URL}#4912-reasons-for-revoking-a-subordinate-ca-certificate"
)
_SUBORDINATE_TEXT: Final = (
    "The Issuing CA SHALL revoke a Subordinate CA Certificate within seven (7) days if one or more of "
    "the following occurs"
)
_SUBORDINATE_PUBLICATION: Final = Citation(
    BR, "1.7.0", "4.9.7", f"{BR_1_7_0_URL}#497-crl-issuance-frequency-if-applicable"
)
_SUBSCRIBER_PUBLICATION: Final = Citation(
    BR, "1.7.0", "4.9.5", f"{BR_1_7_0_URL}#495-time-within-which-ca-must-process-the-revocation-request"
)
_NO_SECTION: Final = Citation(BR, "1.7.0", "4.9.1")
_NO_BR: Final = Citation(BR, "1.0.0", "1.1 (effective date 2012-07-01)")


@dataclass(frozen=True, slots=True)
class _SubscriberText:
    effective: date
    version: str
    fast_text: str
    slow_text: str | None  # None before SC6: one 24-hour list


_SUBSCRIBER_TEXTS: Final = (  # newest first
    _SubscriberText(
        SC063_EFFECTIVE,
        "2.0.1",
        "With the exception of Short-lived Subscriber Certificates, the CA SHALL revoke a Certificate "
        "within 24 hours and use the corresponding CRLReason",
        "With the exception of Short-lived Subscriber Certificates, the CA SHOULD revoke a certificate "
        "within 24 hours and MUST revoke a Certificate within 5 days and use the corresponding CRLReason",
    ),
    _SubscriberText(
        SC061_EFFECTIVE,
        "1.8.7",
        "the CA SHALL revoke a Certificate within 24 hours and use the corresponding CRLReason",
        "the CA SHOULD revoke a certificate within 24 hours and MUST revoke a Certificate within 5 days "
        "and use the corresponding CRLReason",
    ),
    _SubscriberText(
        SC6_EFFECTIVE,
        "1.7.0",
        "The CA SHALL revoke a Certificate within 24 hours if one or more of the following occurs",
        "The CA SHOULD revoke a certificate within 24 hours and MUST revoke a Certificate within 5 days "
        "if one or more of the following occurs",
    ),
    _SubscriberText(
        BR_1_0_EFFECTIVE,
        "1.6.0",
        "The CA SHALL revoke a Certificate within 24 hours if one or more of the following occurs",
        None,
    ),
)


def _no_window(
    kind: WindowKind | None,
    reason: RevocationReason | None,
    exempt_reason: str,
    citation: Citation,
    rule_text: str = "",
) -> WindowAnswer:
    return WindowAnswer(
        window_kind=kind,
        reason=reason,
        window=None,
        exempt_reason=exempt_reason,
        citation=citation,
        text_version=f"BR {citation.version}",
        rule_text=rule_text,
        br_item=None,
        crl_reason=None,
        publication_allowance=timedelta(0),
        publication_citation=citation,
    )


def revocation_window(
    kind: WindowKind | CertKind,
    reason: RevocationReason | None,
    at: datetime,
    *,
    validity_s: int | None = None,
    issued_at: datetime | None = None,
) -> WindowAnswer:
    """The BR revocation window for a clock started at `at` (the moment the CA was made aware).

    `kind` is a WindowKind, or a CertKind mapped to one (sub-CA kinds -> subordinate CA, tls_leaf ->
    subscriber); root, ocsp_responder and other_leaf get no window (BR 4.9.1 sets none for them).
    `reason` None, or a reason the section does not list, gets the section's shortest window (24 hours
    for a subscriber from SC6 on) and no item number. The Short-lived exemption needs `validity_s`
    (see validity_period_s) and `issued_at` (the certificate's notBefore); without both a subscriber
    certificate is not treated as short-lived. Naive datetimes raise ValueError.
    """
    at = _aware("at", at)
    if issued_at is not None:
        issued_at = _aware("issued_at", issued_at)
    if isinstance(kind, CertKind):
        window_kind = _KIND_OF_CERT.get(kind)
        if window_kind is None:
            return _no_window(
                None, reason, f"BR 4.9.1 sets no revocation window for {kind} certificates", _NO_SECTION
            )
    else:
        window_kind = kind
    if at < day_start(BR_1_0_EFFECTIVE):
        return _no_window(
            window_kind, reason, "before the Baseline Requirements took effect (2012-07-01)", _NO_BR
        )
    if window_kind is WindowKind.SUBORDINATE_CA:
        return _subordinate_ca(reason)
    return _subscriber(reason, at, validity_s, issued_at)


def _subordinate_ca(reason: RevocationReason | None) -> WindowAnswer:
    item = SUBORDINATE_CA_ITEMS.get(reason) if reason is not None else None
    return WindowAnswer(
        window_kind=WindowKind.SUBORDINATE_CA,
        reason=reason,
        window=SUBORDINATE_CA_WINDOW,
        exempt_reason=None,
        citation=_SUBORDINATE_CITATION,
        text_version="BR 1.7.0",
        rule_text=_SUBORDINATE_TEXT,
        br_item=f"4.9.1.2 #{item}" if item is not None else None,
        crl_reason=None,
        publication_allowance=SUBORDINATE_CA_PUBLICATION,
        publication_citation=_SUBORDINATE_PUBLICATION,
    )


def _short_lived_limit_s(issued_at: datetime) -> int | None:
    if issued_at < day_start(SC063_EFFECTIVE):
        return None
    if issued_at < day_start(SHORT_LIVED_7_DAYS_FROM):
        return SHORT_LIVED_MAX_S_UNTIL_2026
    return SHORT_LIVED_MAX_S_FROM_2026


def _subscriber(
    reason: RevocationReason | None, at: datetime, validity_s: int | None, issued_at: datetime | None
) -> WindowAnswer:
    text = next(text for text in _SUBSCRIBER_TEXTS if at >= day_start(text.effective))
    if text.effective >= SC063_EFFECTIVE and validity_s is not None and issued_at is not None:
        limit_s = _short_lived_limit_s(issued_at)
        if limit_s is not None and validity_s <= limit_s:
            return _no_window(
                WindowKind.SUBSCRIBER,
                reason,
                f"Short-lived Subscriber Certificate (validity {validity_s} s <= {limit_s} s)",
                Citation(BR, text.version, "4.9.1.1; 1.6.1 Short-lived Subscriber Certificate"),
                "The CA MAY support revocation of Short-lived Subscriber Certificates.",
            )
    # Before SC6 there is one list, every reason within 24 hours; its item numbers are not recorded.
    if text.slow_text is None:
        return _subscriber_answer(reason, text, fast=True, item=None, crl_reason=None)
    fast, item, crl_reason = True, None, None
    if text.effective >= SC061_EFFECTIVE:
        entry = SC061_SUBSCRIBER_ITEMS.get(reason) if reason is not None else None
        if entry is not None:
            number, crl_reason = entry
            fast = number <= SC061_SUBSCRIBER_24H_LAST_ITEM
            item = f"4.9.1.1 #{number}"
    elif reason in SC6_SUBSCRIBER_24H_ITEMS:
        item = f"4.9.1.1 24-hour list #{SC6_SUBSCRIBER_24H_ITEMS[reason]}"
    elif reason in SC6_SUBSCRIBER_5D_ITEMS:
        fast = False
        item = f"4.9.1.1 5-day list #{SC6_SUBSCRIBER_5D_ITEMS[reason]}"
    return _subscriber_answer(reason, text, fast=fast, item=item, crl_reason=crl_reason)


def _subscriber_answer(
    reason: RevocationReason | None,
    text: _SubscriberText,
    *,
    fast: bool,
    item: str | None,
    crl_reason: CRLReason | None,
) -> WindowAnswer:
    return WindowAnswer(
        window_kind=WindowKind.SUBSCRIBER,
        reason=reason,
        window=SUBSCRIBER_FAST if fast else SUBSCRIBER_SLOW,
        exempt_reason=None,
        citation=Citation(BR, text.version, "4.9.1.1"),
        text_version=f"BR {text.version}",
        rule_text=text.fast_text if fast or text.slow_text is None else text.slow_text,
        br_item=item,
        crl_reason=crl_reason,
        publication_allowance=timedelta(0),
        publication_citation=_SUBSCRIBER_PUBLICATION,
    )


def deadline(clock_start: datetime, answer: WindowAnswer) -> Deadline | None:
    """When revocation was due for a clock started at `clock_start`; None when there is no window."""
    clock_start = _aware("clock_start", clock_start)
    if answer.window is None:
        return None
    revoke_by = clock_start + answer.window
    return Deadline(revoke_by=revoke_by, publish_by=revoke_by + answer.publication_allowance)
