"""What the evaluator produces and the read API returns: incidents, verdicts, key groups (UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ctwatch.evaluate.verdict import Basis, Status


class IncidentStatus(StrEnum):
    CLOCK_NOT_STARTED = "clock_not_started"
    NO_WINDOW = "no_br_window"  # the clock started, but the BRs set no revocation window for it
    OPEN = "open"
    AWAITING_KEY_DESTRUCTION = "revoked_awaiting_key_destruction"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Incident:
    incident_id: str  # '<declared id or rule id>:<CA owner>'
    rule_id: str
    rule_citation: str
    declared_id: str | None
    ca_owner: str
    subordinate_ca_owners: tuple[str, ...]
    root_stores: tuple[str, ...]  # e.g. ('Apple', 'Chrome', 'Microsoft', 'Mozilla')
    scope_basis: str
    clock_start: datetime | None
    clock_source: str | None  # 'public_disclosure', 'bugzilla_filing', 'bugzilla_mention', 'problem_report'
    clock_source_detail: str | None
    first_detected_as_of: datetime | None  # shown, starts no clock
    window_kind: str | None
    window: timedelta | None
    deadline: datetime | None
    publication_allowance: timedelta | None
    window_citation: str | None
    key_destruction_required: bool
    certificates: int
    key_groups: int
    status: IncidentStatus


@dataclass(frozen=True, slots=True)
class Verdict:
    incident_id: str
    der_sha256: str
    precert_der_sha256: str | None
    spki_sha256: str | None
    has_finding: bool
    kind: str
    ca_owner: str
    subordinate_ca_owner: str | None
    subject: str | None
    issuer: str | None
    serial_hex: str | None
    not_before: datetime | None
    not_after: datetime | None
    dns_names: tuple[str, ...] | None  # None: a CA certificate (n/a)
    first_ct_at: datetime | None
    first_ct_basis: str
    deadline: datetime | None
    deadline_basis: str
    planned_revocation_at: datetime | None
    publish_by: datetime | None  # deadline + the channel's publication allowance
    status: Status
    delay: timedelta | None  # proven delay (late: at least this; overdue: so far)
    delay_max: timedelta | None  # late by at most this (equal to `delay` when exact)
    basis: Basis
    basis_text: str  # the basis in words a reviewer can quote
    revoked_at_claimed: datetime | None
    revocation_reason: str | None
    first_observed_revoked_at: datetime | None  # ctwatch's own first observation of a listing
    last_observed_absent_at: datetime | None  # ctwatch's last observation of the channel without it
    bounds: tuple[str, ...]
    arithmetic: tuple[str, ...]
    evidence: tuple[str, ...]
    findings: tuple[str, ...]  # e.g. certificateHold on the CA's channel
    root_program_actions: tuple[str, ...]  # OneCRL / CRLSet blocks: beside the verdict, never settling


class KeyGroupState(StrEnum):
    OPEN = "open"
    AWAITING_KEY_DESTRUCTION = "revoked_awaiting_key_destruction"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class KeyGroupStatus:
    incident_id: str
    spki_sha256: str
    members: int
    roots_listed: int
    revoked: int
    expired: int
    open: int
    late: int
    max_delay: timedelta | None
    key_destruction_required: bool
    key_destroyed_at: datetime | None
    key_destruction_auditor: str | None
    key_destruction_link: str | None
    status: KeyGroupState
    earliest_deadline: datetime | None  # of the members with a revocation clock
    closed_at: datetime | None  # latest member revocation or expiry, and the key destruction if required
    closure_delay: timedelta | None  # closed_at - earliest_deadline (negative: closed before it)


@dataclass(frozen=True, slots=True)
class Disagreement:
    der_sha256: str
    kind: str
    first_found_as_of: datetime


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """A flagged or declared certificate no incident covers, and why."""

    der_sha256: str
    rule_id: str
    why: str


@dataclass(frozen=True, slots=True)
class Assessment:
    as_of: datetime
    incidents: tuple[Incident, ...]
    verdicts: tuple[Verdict, ...]
    key_groups: tuple[KeyGroupStatus, ...]
    disagreements: tuple[Disagreement, ...]
    out_of_scope: tuple[OutOfScope, ...]
    config_sha256: str
