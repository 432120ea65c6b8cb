"""What a verdict is: its status, the basis it rests on, and the numbers (pure vocabulary; the rules
that produce one are in ctwatch.evaluate.judgement, and docs/verdicts.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final


class Status(StrEnum):
    REVOKED_BEFORE_START = "revoked_before_start"
    PENDING = "pending"
    REVOKED_ON_TIME = "revoked_on_time"
    REVOKED_LATE = "revoked_late"
    OVERDUE = "overdue"
    EXPIRED_UNREVOKED = "expired_unrevoked"
    ROOT_PROGRAM_ACTION = "root_program_action"  # a root: an action item for root programs, no clock
    NO_DEADLINE = "no_deadline"  # the BRs set no revocation window for it (kind, short-lived)
    OTHER_OWNER = "other_owner_notified"  # a key-group member under another CA owner: that owner's item

    @property
    def settled(self) -> bool:
        """Revoked or expired: nothing left for the CA to revoke."""
        return self in _SETTLED

    @property
    def waited(self) -> bool:
        """Whether the incident waits for this certificate (it has a revocation clock here)."""
        return self not in _NOT_WAITED


_SETTLED: Final = frozenset(
    {Status.REVOKED_BEFORE_START, Status.REVOKED_ON_TIME, Status.REVOKED_LATE, Status.EXPIRED_UNREVOKED}
)
_NOT_WAITED: Final = frozenset({Status.ROOT_PROGRAM_ACTION, Status.NO_DEADLINE, Status.OTHER_OWNER})


class Basis(StrEnum):
    OBSERVED = "observed"  # ctwatch's observations of the CA's channel settle the publication
    CLAIMED_ONLY = "claimed_only"  # listed by the CA; when it was published is not shown by ctwatch
    REPORTED_ONLY = "reported_only"  # no CA channel lists it; an uncontradicted report settles it
    REPORT_CONTRADICTED = "report_contradicted"  # a report says revoked, the CA's channel does not
    CERTIFICATE_HOLD = "certificate_hold"  # listed only on hold: no revocation
    NO_REVOCATION = "no_revocation_observed"
    NO_CLOCK = "clock_not_started"
    NO_WINDOW = "no_br_window"
    OTHER_OWNER = "other_ca_owner"
    ROOT = "root_certificate"


@dataclass(frozen=True, slots=True)
class Judgement:
    status: Status
    delay: timedelta | None  # proven: late by at least this (overdue: so far)
    delay_max: timedelta | None  # late by at most this (equal to `delay` when exact)
    basis: Basis
    basis_text: str  # the basis in words a reviewer can quote
    revoked_at_claimed: datetime | None
    revocation_reason: str | None
    first_observed_revoked_at: datetime | None  # ctwatch's own first observation of a listing
    last_observed_absent_at: datetime | None  # ctwatch's last observation of the channel without it
    publish_by: datetime | None
    bounds: tuple[str, ...]  # other evidence the verdict weighed, in words
    arithmetic: tuple[str, ...]
    findings: tuple[str, ...]  # e.g. certificateHold
    root_program_actions: tuple[str, ...]  # OneCRL / CRLSet blocks beside the verdict


def format_delay(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    sign = "-" if seconds < 0 else ""
    days, rest = divmod(abs(seconds), 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{days}d {hours:02d}:{minutes:02d}:{secs:02d}"
