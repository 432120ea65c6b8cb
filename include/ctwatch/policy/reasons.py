"""Revocation reasons as a stable vocabulary, their BR item numbers per text version, and RFC 5280 CRLReasons.

BR item numbers are not stable: SC6 (v1.6.1, 2018-10-14) split 4.9.1.1 into a 24-hour list and a
5-day list, each numbered from 1, and by SC061 (v1.8.7, 2023-07-15) the lists were one sequence
1..16 with a CRLReason per item. So ctwatch names the *situation* (RevocationReason) and maps it to
the item of the text in force.

Sources: the Baseline Requirements v1.7.0 §4.9.1 (SC6 numbering) and v2.2.6 §4.9.1 (SC061
numbering and CRLReasons, unchanged in meaning since v1.8.7). UNVERIFIED: a 1..16 numbering
without CRLReasons, with the "easily compute the private key" situation moved to the 24-hour list,
already existed in some v1.7.x after 1.7.0 (ballot drafts based on v1.7.9 quote it); that version was
not identified, so the v1.7.0 numbering is used for the whole SC6 period.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from ctwatch.evidence.revocation import CRLReason


class RevocationReason(StrEnum):
    """A situation that obliges a CA to revoke (BR 4.9.1.1 / 4.9.1.2), named independently of item numbers."""

    SUBSCRIBER_REQUEST = "subscriber_request"  # the Subscriber / Subordinate CA asks in writing
    REQUEST_NOT_AUTHORIZED = "request_not_authorized"
    KEY_COMPROMISE = "key_compromise"
    KEY_EASILY_COMPUTED = "key_easily_computed"  # e.g. Debian weak keys
    DOMAIN_VALIDATION_UNRELIABLE = "domain_validation_unreliable"
    KEY_NONCOMPLIANT = "key_noncompliant"  # no longer meets 6.1.5 / 6.1.6
    MISUSE = "misuse"
    SUBSCRIBER_OBLIGATIONS_VIOLATED = "subscriber_obligations_violated"
    DOMAIN_USE_NOT_PERMITTED = "domain_use_not_permitted"
    WILDCARD_MISLEADING = "wildcard_misleading"
    MATERIAL_CHANGE = "material_change"
    NOT_ISSUED_PER_REQUIREMENTS = "not_issued_per_requirements"  # mis-issuance: the usual incident trigger
    INFORMATION_INACCURATE = "information_inaccurate"
    CA_RIGHT_TO_ISSUE_ENDED = "ca_right_to_issue_ended"
    REQUIRED_BY_CP_CPS = "required_by_cp_cps"
    KEY_EXPOSURE_METHOD = "key_exposure_method"  # a method exposes the key, or key generation was flawed
    CA_CEASED_OPERATIONS = "ca_ceased_operations"  # 4.9.1.2 only


R = RevocationReason

# SC6 numbering (BR 1.7.0 §4.9.1.1): two lists, each from 1. Item 11 of the 5-day list covers both a
# method exposing the key and one that "can easily calculate it" (Debian weak keys).
SC6_SUBSCRIBER_24H_ITEMS: Final = {
    R.SUBSCRIBER_REQUEST: 1,
    R.REQUEST_NOT_AUTHORIZED: 2,
    R.KEY_COMPROMISE: 3,
    R.DOMAIN_VALIDATION_UNRELIABLE: 4,
}
SC6_SUBSCRIBER_5D_ITEMS: Final = {
    R.KEY_NONCOMPLIANT: 1,
    R.MISUSE: 2,
    R.SUBSCRIBER_OBLIGATIONS_VIOLATED: 3,
    R.DOMAIN_USE_NOT_PERMITTED: 4,
    R.WILDCARD_MISLEADING: 5,
    R.MATERIAL_CHANGE: 6,
    R.NOT_ISSUED_PER_REQUIREMENTS: 7,
    R.INFORMATION_INACCURATE: 8,
    R.CA_RIGHT_TO_ISSUE_ENDED: 9,
    R.REQUIRED_BY_CP_CPS: 10,
    R.KEY_EXPOSURE_METHOD: 11,
    R.KEY_EASILY_COMPUTED: 11,
}

# SC061 numbering (BR 1.8.7 .. 2.2.6 §4.9.1.1): one sequence; items 1-5 are the 24-hour tier.
SC061_SUBSCRIBER_ITEMS: Final = {
    R.SUBSCRIBER_REQUEST: (1, CRLReason.UNSPECIFIED),
    R.REQUEST_NOT_AUTHORIZED: (2, CRLReason.PRIVILEGE_WITHDRAWN),
    R.KEY_COMPROMISE: (3, CRLReason.KEY_COMPROMISE),
    R.KEY_EASILY_COMPUTED: (4, CRLReason.KEY_COMPROMISE),
    R.DOMAIN_VALIDATION_UNRELIABLE: (5, CRLReason.SUPERSEDED),
    R.KEY_NONCOMPLIANT: (6, CRLReason.SUPERSEDED),
    R.MISUSE: (7, CRLReason.PRIVILEGE_WITHDRAWN),
    R.SUBSCRIBER_OBLIGATIONS_VIOLATED: (8, CRLReason.PRIVILEGE_WITHDRAWN),
    R.DOMAIN_USE_NOT_PERMITTED: (9, CRLReason.CESSATION_OF_OPERATION),
    R.WILDCARD_MISLEADING: (10, CRLReason.PRIVILEGE_WITHDRAWN),
    R.MATERIAL_CHANGE: (11, CRLReason.PRIVILEGE_WITHDRAWN),
    R.NOT_ISSUED_PER_REQUIREMENTS: (12, CRLReason.SUPERSEDED),
    R.INFORMATION_INACCURATE: (13, CRLReason.PRIVILEGE_WITHDRAWN),
    R.CA_RIGHT_TO_ISSUE_ENDED: (14, CRLReason.UNSPECIFIED),
    R.REQUIRED_BY_CP_CPS: (15, CRLReason.UNSPECIFIED),
    R.KEY_EXPOSURE_METHOD: (16, CRLReason.KEY_COMPROMISE),
}
SC061_SUBSCRIBER_24H_LAST_ITEM: Final = 5

# BR 4.9.1.2 (same nine items in 1.7.0 and 2.2.6): item 3 covers key compromise and a key that no
# longer meets 6.1.5/6.1.6. No CRLReason per item is stipulated for CA certificates.
SUBORDINATE_CA_ITEMS: Final = {
    R.SUBSCRIBER_REQUEST: 1,
    R.REQUEST_NOT_AUTHORIZED: 2,
    R.KEY_COMPROMISE: 3,
    R.KEY_NONCOMPLIANT: 3,
    R.MISUSE: 4,
    R.NOT_ISSUED_PER_REQUIREMENTS: 5,
    R.INFORMATION_INACCURATE: 6,
    R.CA_CEASED_OPERATIONS: 7,
    R.CA_RIGHT_TO_ISSUE_ENDED: 8,
    R.REQUIRED_BY_CP_CPS: 9,
}
