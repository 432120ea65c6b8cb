"""The verdict arithmetic for one certificate: pure, from the clock and the observations by as-of.

On time if and only if the CA-claimed revocation time is at or before the deadline AND ctwatch's
first observation is at or before deadline + publication allowance + that source's polling
interval; otherwise the delay is the larger of the two excesses. A ctwatch observation bounds the
publication only when ctwatch saw the source without the entry before (`last_observed_absent_at`)
or saw it in time; else (history nobody watched) the verdict rests on the claimed time and third-
party bounds: basis `claimed_only`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

CA_CHANNELS: Final = frozenset({"crl", "ocsp"})  # where the CA itself publishes its claim
CTWATCH: Final = "ctwatch"


class Status(StrEnum):
    REVOKED_BEFORE_START = "revoked_before_start"
    PENDING = "pending"
    REVOKED_ON_TIME = "revoked_on_time"
    REVOKED_LATE = "revoked_late"
    OVERDUE = "overdue"
    EXPIRED_UNREVOKED = "expired_unrevoked"
    ROOT_PROGRAM_ACTION = "root_program_action"  # a root: an action item for root programs, no clock

    @property
    def settled(self) -> bool:
        """Revoked or expired: nothing left for the CA to revoke."""
        return self in _SETTLED


_SETTLED: Final = frozenset(
    {Status.REVOKED_BEFORE_START, Status.REVOKED_ON_TIME, Status.REVOKED_LATE, Status.EXPIRED_UNREVOKED}
)


class Basis(StrEnum):
    OBSERVED = "observed"  # ctwatch's own first observation bounds the publication
    CLAIMED_ONLY = "claimed_only"  # only the CA's claim and third-party bounds
    NO_REVOCATION = "no_revocation_observed"
    NO_CLOCK = "clock_not_started"
    ROOT = "root_certificate"


@dataclass(frozen=True, slots=True)
class Observation:
    """A revocation_observations row resolved to one certificate."""

    source: str
    observer: str
    revoked_at_claimed: datetime | None
    reason: str | None
    first_observed_at: datetime
    last_observed_at: datetime
    last_observed_absent_at: datetime | None
    evidence_sha256: str | None
    evidence_ref: str | None

    def describe(self) -> str:
        claimed = _t(self.revoked_at_claimed) if self.revoked_at_claimed else "no claimed time"
        absent = (
            f", last seen without it {_t(self.last_observed_absent_at)}"
            if self.last_observed_absent_at
            else ", never seen without it"
        )
        where = self.evidence_ref or "?"
        digest = f" sha256 {self.evidence_sha256}" if self.evidence_sha256 else ""
        return (
            f"{self.source} (observer {self.observer}): claimed {claimed}, first observed "
            f"{_t(self.first_observed_at)}{absent}; {where}{digest}"
        )


@dataclass(frozen=True, slots=True)
class Judgement:
    status: Status
    delay: timedelta | None
    basis: Basis
    revoked_at_claimed: datetime | None
    revocation_reason: str | None
    first_observed_revoked_at: datetime | None  # ctwatch's own
    bounds: tuple[str, ...]
    arithmetic: tuple[str, ...]


def _t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_delay(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    sign = "-" if seconds < 0 else ""
    days, rest = divmod(abs(seconds), 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{days}d {hours:02d}:{minutes:02d}:{secs:02d}"


def judge(
    *,
    as_of: datetime,
    clock_start: datetime | None,
    deadline: datetime | None,
    publication_allowance: timedelta,
    not_after: datetime | None,
    observations: Sequence[Observation],
    polling_interval: Callable[[str], timedelta],
) -> Judgement:
    """The verdict of one certificate as of `as_of` from the observations made by then."""
    steps: list[str] = []
    if not observations:
        return _unrevoked(as_of, clock_start, deadline, not_after, steps)
    claims = [o for o in observations if o.revoked_at_claimed and o.source in CA_CHANNELS] or [
        o for o in observations if o.revoked_at_claimed
    ]
    claim = min(claims, key=lambda o: (o.revoked_at_claimed, o.first_observed_at)) if claims else None
    claimed_at = claim.revoked_at_claimed if claim else None
    reason = next((o.reason for o in ([claim] if claim else []) + list(observations) if o.reason), None)
    own = [o for o in observations if o.observer == CTWATCH]
    first_own = min((o.first_observed_at for o in own), default=None)
    if claim is not None and claimed_at is not None:
        steps.append(f"claimed revocation {_t(claimed_at)} ({claim.source}, observer {claim.observer})")
    if clock_start is None or deadline is None:
        steps.append("no clock started: a revocation now precedes any deadline")
        return Judgement(
            Status.REVOKED_BEFORE_START, None, Basis.NO_CLOCK, claimed_at, reason, first_own, (), tuple(steps)
        )

    def bound(o: Observation) -> datetime:
        return deadline + publication_allowance + polling_interval(o.source)

    watched = [o for o in own if o.last_observed_absent_at is not None or o.first_observed_at <= bound(o)]
    bounds = [
        f"{o.source} first listed by {_t(o.first_observed_at)} (observer {o.observer})"
        for o in observations
        if o not in watched
    ]
    claim_excess: timedelta | None = None
    if claimed_at is not None:
        claim_excess = claimed_at - deadline
        steps.append(f"claimed {_t(claimed_at)} - deadline {_t(deadline)} = {format_delay(claim_excess)}")
    observed_excess: timedelta | None = None
    if watched:
        best = min(watched, key=lambda o: o.first_observed_at - bound(o))
        observed_excess = best.first_observed_at - bound(best)
        steps.append(
            f"first observed {_t(best.first_observed_at)} ({best.source}) - (deadline {_t(deadline)}"
            f" + publication {format_delay(publication_allowance)}"
            f" + polling {format_delay(polling_interval(best.source))}) = {format_delay(observed_excess)}"
        )
    basis = Basis.OBSERVED if watched else Basis.CLAIMED_ONLY
    if claim_excess is None and observed_excess is None:
        # Neither a claim nor a watched observation: the earliest third-party sighting is an upper
        # bound of the revocation time, judged like an observation without polling interval.
        earliest = min(observations, key=lambda o: o.first_observed_at)
        observed_excess = earliest.first_observed_at - (deadline + publication_allowance)
        steps.append(
            f"no claimed time: earliest listing {_t(earliest.first_observed_at)} ({earliest.source})"
            f" - (deadline + publication) = {format_delay(observed_excess)}"
        )
    if (
        claimed_at is not None
        and claimed_at < clock_start
        and (observed_excess is None or observed_excess <= timedelta(0))
    ):
        steps.append(f"claimed {_t(claimed_at)} before the clock start {_t(clock_start)}")
        return Judgement(
            Status.REVOKED_BEFORE_START,
            None,
            basis,
            claimed_at,
            reason,
            first_own,
            tuple(bounds),
            tuple(steps),
        )
    delay = max(e for e in (claim_excess, observed_excess) if e is not None)
    if delay <= timedelta(0):
        steps.append("on time: every excess <= 0")
        return Judgement(
            Status.REVOKED_ON_TIME, None, basis, claimed_at, reason, first_own, tuple(bounds), tuple(steps)
        )
    steps.append(f"late by the larger excess: {format_delay(delay)}")
    return Judgement(
        Status.REVOKED_LATE, delay, basis, claimed_at, reason, first_own, tuple(bounds), tuple(steps)
    )


def _unrevoked(
    as_of: datetime,
    clock_start: datetime | None,
    deadline: datetime | None,
    not_after: datetime | None,
    steps: list[str],
) -> Judgement:
    expired = not_after is not None and not_after <= as_of
    if clock_start is None or deadline is None:
        steps.append("no clock started")
        status = Status.EXPIRED_UNREVOKED if expired else Status.PENDING
        return Judgement(status, None, Basis.NO_CLOCK, None, None, None, (), tuple(steps))
    if expired:
        assert not_after is not None  # expired implies a notAfter
        overdue_for = not_after - deadline
        steps.append(f"expired {_t(not_after)} unrevoked; notAfter - deadline = {format_delay(overdue_for)}")
        delay = overdue_for if overdue_for > timedelta(0) else None
        return Judgement(
            Status.EXPIRED_UNREVOKED, delay, Basis.NO_REVOCATION, None, None, None, (), tuple(steps)
        )
    if as_of <= deadline:
        steps.append(f"as of {_t(as_of)} <= deadline {_t(deadline)}: pending")
        return Judgement(Status.PENDING, None, Basis.NO_REVOCATION, None, None, None, (), tuple(steps))
    overdue_for = as_of - deadline
    steps.append(f"as of {_t(as_of)} - deadline {_t(deadline)} = {format_delay(overdue_for)} overdue")
    return Judgement(Status.OVERDUE, overdue_for, Basis.NO_REVOCATION, None, None, None, (), tuple(steps))
