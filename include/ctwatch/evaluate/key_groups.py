"""Key groups of an incident: the certificates sharing one key, revoked together, and their closure.

A group closes when every member with a revocation clock is revoked or expired and, where the
incident requires it (the OCSP-EKU rules: whoever holds the key can answer for itself), the key's
destruction is attested (counted from when the attestation was recorded). Its closure time is the
latest of the members' revocations or expiries and the destruction; its delay is measured against
the earliest deadline of its members. A member's revocation counts from its claimed time when on
time, and from deadline + proven delay when late (the moment the evidence allows, not the claim).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ctwatch.evaluate.model import KeyGroupState, KeyGroupStatus, Verdict
from ctwatch.evaluate.verdict import Status
from ctwatch.timeutil import utc_or_none


def settled_at(verdict: Verdict) -> datetime | None:
    """When a settled member stopped needing revocation: revoked (see module doc) or expired."""
    if verdict.status is Status.EXPIRED_UNREVOKED:
        return verdict.not_after
    if verdict.status is Status.REVOKED_LATE and verdict.deadline is not None and verdict.delay is not None:
        return verdict.deadline + verdict.delay
    if verdict.status.settled:
        return verdict.revoked_at_claimed or verdict.first_observed_revoked_at
    return None


def key_groups(
    incident_id: str,
    verdicts: Sequence[Verdict],
    destruction_required: bool,
    destroyed: Mapping[str, Mapping[str, Any]],
) -> list[KeyGroupStatus]:
    """One status per key of the incident's certificates (a certificate without a key stands alone)."""
    by_key: dict[str, list[Verdict]] = defaultdict(list)
    for verdict in verdicts:
        by_key[verdict.spki_sha256 or f"no-key:{verdict.der_sha256}"].append(verdict)
    return [
        _group(incident_id, spki, members, destruction_required, destroyed.get(spki))
        for spki, members in sorted(by_key.items())
    ]


def _group(
    incident_id: str,
    spki: str,
    members: Sequence[Verdict],
    destruction_required: bool,
    attestation: Mapping[str, Any] | None,
) -> KeyGroupStatus:
    waited = [v for v in members if v.status.waited]
    revoked = sum(v.status.settled and v.status is not Status.EXPIRED_UNREVOKED for v in waited)
    expired = sum(v.status is Status.EXPIRED_UNREVOKED for v in waited)
    delays = [v.delay for v in waited if v.delay is not None and v.status is not Status.PENDING]
    destroyed_at = utc_or_none(attestation["destroyed_at"]) if attestation else None
    deadlines = [v.deadline for v in waited if v.deadline is not None]
    earliest_deadline = min(deadlines, default=None)
    closed_at: datetime | None = None
    if any(not v.status.settled for v in waited):
        state = KeyGroupState.OPEN
    elif destruction_required and destroyed_at is None:
        state = KeyGroupState.AWAITING_KEY_DESTRUCTION
    else:
        state = KeyGroupState.CLOSED
        ends = [t for v in waited if (t := settled_at(v)) is not None]
        if destruction_required and destroyed_at is not None:
            ends.append(destroyed_at)
        closed_at = max(ends, default=None)
    return KeyGroupStatus(
        incident_id=incident_id,
        spki_sha256=spki,
        members=len(members),
        roots_listed=sum(v.status is Status.ROOT_PROGRAM_ACTION for v in members),
        revoked=revoked,
        expired=expired,
        open=len(waited) - revoked - expired,
        late=sum(v.status in (Status.REVOKED_LATE, Status.OVERDUE) for v in waited),
        max_delay=max(delays, default=None),
        key_destruction_required=destruction_required,
        key_destroyed_at=destroyed_at,
        key_destruction_auditor=attestation["auditor"] if attestation else None,
        key_destruction_link=attestation["link"] if attestation else None,
        status=state,
        earliest_deadline=earliest_deadline,
        closed_at=closed_at,
        closure_delay=closed_at - earliest_deadline if closed_at and earliest_deadline else None,
    )
