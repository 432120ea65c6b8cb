"""What an alert is: one state transition of an incident, of one of its certificates, or of a
source ctwatch watches through (down for longer than `source_down_after`, then recovered); or, while
certificates stay overdue, one still_overdue digest per incident and period listing them all.

The evaluator detects transitions and builds `AlertEvent`s; everything after that (outbox,
formatting, sending) works from the event alone. Certificate text in `AlertFacts` is
attacker-controlled: only `ctwatch.alerts.format` turns it into channel markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import msgspec

from ctwatch.timeutil import iso_z, require_aware

# An evaluation whose as-of is more than this before the real time replays the past (a backfill):
# its alerts are historical. An hourly run that the scheduler caught up a few hours late is still live.
HISTORICAL_AFTER = timedelta(days=1)
# A live evaluation raises at most one still_overdue digest per incident in each period of this
# length (`[alerts] overdue_digest_period`).
OVERDUE_DIGEST_PERIOD = timedelta(days=1)
# Digest periods count from this Monday 00:00 UTC: "1d" periods are UTC days, "7d" ones Monday weeks.
DIGEST_PERIODS_FROM = datetime(1970, 1, 5, tzinfo=UTC)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_KIND = re.compile(r"[a-z0-9_]+")


class Transition(StrEnum):
    NEW_INCIDENT = "new_incident"
    CLOCK_NOT_STARTED = "clock_not_started"  # staff must notify the CA or declare a clock start
    DEADLINE_IN_24H = "deadline_in_24h"
    DEADLINE_BREACHED = "deadline_breached"
    REVOKED_LATE = "revoked_late"
    STILL_OVERDUE = "still_overdue"  # a digest of the incident's overdue certificates, once per period
    SOURCES_DISAGREE = "sources_disagree"
    SOURCE_DOWN = "source_down"  # ctwatch is blind to a source: staff must know
    SOURCE_RECOVERED = "source_recovered"
    PLAN_BEHIND = "plan_behind"  # a milestone of the CA's declared plan missed by more than the margin
    ISSUED_AFTER_STOP = "issued_after_stop"  # a leaf issued after the plan's stop-issuance date


PLAN_TRANSITIONS = frozenset({Transition.PLAN_BEHIND, Transition.ISSUED_AFTER_STOP})


SOURCE_TRANSITIONS = frozenset({Transition.SOURCE_DOWN, Transition.SOURCE_RECOVERED})
SOURCE_HEALTH_INCIDENT = "source-health"


class AlertFacts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What staff need to act on, as the evaluator knew it at `AlertEvent.occurred_at`."""

    ca_owner: str  # CCADB "CA Owner"; empty for a source's transitions
    subordinate_ca_owner: str | None = None  # CCADB "Subordinate CA Owner"
    rule_id: str | None = None
    subject: str | None = None  # RFC 4514; attacker-controlled
    issuer: str | None = None  # RFC 4514; attacker-controlled
    serial_hex: str | None = None
    deadline: datetime | None = None
    delay: timedelta | None = None  # revoked late by, or overdue so far
    clock_started_at: datetime | None = None
    clock_source: str | None = None  # e.g. "public disclosure", "Bugzilla 1649951"
    bug_url: str | None = None
    evidence: str | None = None  # one line, e.g. "CRL 2021-01-04 first observed 2021-01-05 03:00 UTC"
    source: str | None = None  # source transitions: e.g. "crl", "onecrl", "ct"
    source_target: str | None = None  # its URL, search or log id
    failing_since: datetime | None = None  # first failed check of the streak
    recovered_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("deadline", "clock_started_at", "failing_since", "recovered_at"):
            value = getattr(self, name)
            if value is not None:
                require_aware(value, f"AlertFacts.{name}")


class OverdueCertificate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One certificate of a still_overdue digest."""

    der_sha256: str
    subject: str | None  # RFC 4514; attacker-controlled
    serial_hex: str | None
    deadline: datetime
    delay: timedelta  # overdue so far, as of the digest's evaluation

    def __post_init__(self) -> None:
        if not _SHA256_HEX.fullmatch(self.der_sha256):
            raise ValueError(f"der_sha256 must be 64 lower-case hex digits: {self.der_sha256!r}")
        require_aware(self.deadline, "OverdueCertificate.deadline")


class OverdueDigest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a still_overdue alert lists: every certificate of the incident overdue as of the
    evaluation, most overdue first. Build it with `overdue_digest_of`."""

    period_start: datetime  # live: the start of the period it covers; historical: the as-of
    period: timedelta | None  # live: the period's length; historical: None, one digest per evaluation
    certificates: tuple[OverdueCertificate, ...]

    def __post_init__(self) -> None:
        require_aware(self.period_start, "OverdueDigest.period_start")
        if not self.certificates:
            raise ValueError("a digest lists at least one overdue certificate")

    @property
    def label(self) -> str:
        """Its part of the alert key: 'period-<start>' (live) or 'as-of-<as-of>' (historical)."""
        kind = "as-of" if self.period is None else "period"
        return f"{kind}-{iso_z(self.period_start)}"


class AlertEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One transition; `key` identifies it, so enqueuing it again changes nothing."""

    incident_id: str
    der_sha256: str | None  # None: an incident-level alert (new incident, clock not started, digest)
    transition: Transition
    occurred_at: datetime  # the as-of of the evaluation that saw the transition, not the wall clock
    historical: bool  # see `is_historical`: goes to the replay sink, never to live channels
    facts: AlertFacts
    overdue_digest: OverdueDigest | None = None  # still_overdue only
    disagreement: str | None = None  # sources_disagree only: its kind, one alert per kind
    episode: str | None = None  # source transitions only: "<source> <target> <failing since>"
    plan_point: str | None = None  # plan transitions only: "<plan announced>/<milestone due or stop date>"

    def __post_init__(self) -> None:
        if not self.incident_id or "|" in self.incident_id:
            raise ValueError(f"incident_id must be non-empty and free of '|': {self.incident_id!r}")
        if self.der_sha256 is not None and not _SHA256_HEX.fullmatch(self.der_sha256):
            raise ValueError(f"der_sha256 must be 64 lower-case hex digits: {self.der_sha256!r}")
        require_aware(self.occurred_at, "occurred_at")
        if (self.transition is Transition.STILL_OVERDUE) != (self.overdue_digest is not None):
            raise ValueError("overdue_digest is required for still_overdue and only for it")
        if self.overdue_digest is not None:
            self._check_digest(self.overdue_digest)
        if self.disagreement is not None and self.transition is not Transition.SOURCES_DISAGREE:
            raise ValueError("disagreement is only for sources_disagree")
        if self.disagreement is not None and not _KIND.fullmatch(self.disagreement):
            raise ValueError(f"disagreement must be a kind name, got {self.disagreement!r}")
        if (self.episode is not None) != (self.transition in SOURCE_TRANSITIONS):
            raise ValueError("episode is required for source transitions and only for them")
        if self.episode is not None and "|" in self.episode:
            raise ValueError(f"episode must be free of '|': {self.episode!r}")
        if (self.plan_point is not None) != (self.transition in PLAN_TRANSITIONS):
            raise ValueError("plan_point is required for plan transitions and only for them")
        if self.plan_point is not None and "|" in self.plan_point:
            raise ValueError(f"plan_point must be free of '|': {self.plan_point!r}")

    def _check_digest(self, digest: OverdueDigest) -> None:
        if self.der_sha256 is not None:
            raise ValueError("a still_overdue digest is an incident-level alert: der_sha256 must be None")
        if self.historical != (digest.period is None):
            raise ValueError("a historical digest covers its evaluation (period None), a live one a period")
        if digest.period is None and digest.period_start != self.occurred_at:
            raise ValueError("a historical digest starts at its evaluation's as-of")
        if digest.period is not None and not (
            digest.period_start <= self.occurred_at < digest.period_start + digest.period
        ):
            raise ValueError("a live digest's period must hold its evaluation's as-of")

    @property
    def key(self) -> str:
        """The outbox key: incident | certificate ('-' for the incident) | transition
        [| digest period, see `OverdueDigest.label`] [| disagreement kind] [| source episode]
        [| plan point]."""
        parts = [self.incident_id, self.der_sha256 or "-", str(self.transition)]
        if self.overdue_digest is not None:
            parts.append(self.overdue_digest.label)
        if self.disagreement is not None:
            parts.append(self.disagreement)
        if self.episode is not None:
            parts.append(self.episode)
        if self.plan_point is not None:
            parts.append(self.plan_point)
        return "|".join(parts)


def is_historical(as_of: datetime, now: datetime, *, after: timedelta = HISTORICAL_AFTER) -> bool:
    """Whether an evaluation as of `as_of`, run at the real time `now`, replays the past."""
    require_aware(as_of, "as_of")
    require_aware(now, "now")
    return as_of < now - after


def digest_period_start(as_of: datetime, period: timedelta) -> datetime:
    """The start of the digest period holding `as_of` (periods count from `DIGEST_PERIODS_FROM`)."""
    require_aware(as_of, "as_of")
    if period <= timedelta(0):
        raise ValueError(f"a digest period must be positive, got {period}")
    moment = as_of.astimezone(UTC)
    return moment - (moment - DIGEST_PERIODS_FROM) % period


def overdue_digest_of(
    certificates: Iterable[OverdueCertificate], as_of: datetime, period: timedelta | None
) -> OverdueDigest | None:
    """The digest of an evaluation as of `as_of` (`period`: a live one's, None for a historical
    one), most overdue first; None when nothing is overdue."""
    # Equal delays (one deadline for the whole incident) keep a stable order: by fingerprint.
    ordered = tuple(sorted(certificates, key=lambda c: (-c.delay, c.der_sha256)))
    if not ordered:
        return None
    start = as_of if period is None else digest_period_start(as_of, period)
    return OverdueDigest(period_start=start, period=period, certificates=ordered)


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AlertEvent)


def encode_event(event: AlertEvent) -> str:
    return _encoder.encode(event).decode("utf-8")


def decode_event(text: str | bytes) -> AlertEvent:
    return _decoder.decode(text)
