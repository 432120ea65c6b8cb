"""What an alert is: one state transition of an incident, of one of its certificates, or of a
source ctwatch watches through (down for longer than `source_down_after`, then recovered).

The evaluator detects transitions and builds `AlertEvent`s; everything after that (outbox,
formatting, sending) works from the event alone. Certificate text in `AlertFacts` is
attacker-controlled: only `ctwatch.alerts.format` turns it into channel markup.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from ctwatch.timeutil import require_aware

# An evaluation whose as-of is more than this before the real time replays the past (a backfill):
# its alerts are historical. An hourly run that the scheduler caught up a few hours late is still live.
HISTORICAL_AFTER = timedelta(days=1)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_KIND = re.compile(r"[a-z0-9_]+")


class Transition(StrEnum):
    NEW_INCIDENT = "new_incident"
    CLOCK_NOT_STARTED = "clock_not_started"  # staff must notify the CA or declare a clock start
    DEADLINE_IN_24H = "deadline_in_24h"
    DEADLINE_BREACHED = "deadline_breached"
    REVOKED_LATE = "revoked_late"
    STILL_OVERDUE = "still_overdue"  # repeats weekly: one transition per `overdue_week`
    SOURCES_DISAGREE = "sources_disagree"
    SOURCE_DOWN = "source_down"  # ctwatch is blind to a source: staff must know
    SOURCE_RECOVERED = "source_recovered"


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


class AlertEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One transition; `key` identifies it, so enqueuing it again changes nothing."""

    incident_id: str
    der_sha256: str | None  # None: an incident-level alert (new incident, clock not started)
    transition: Transition
    occurred_at: datetime  # the as-of of the evaluation that saw the transition, not the wall clock
    historical: bool  # see `is_historical`: goes to the replay sink, never to live channels
    facts: AlertFacts
    overdue_week: int | None = None  # still_overdue only: see `overdue_week_at()`
    disagreement: str | None = None  # sources_disagree only: its kind, one alert per kind
    episode: str | None = None  # source transitions only: "<source> <target> <failing since>"

    def __post_init__(self) -> None:
        if not self.incident_id or "|" in self.incident_id:
            raise ValueError(f"incident_id must be non-empty and free of '|': {self.incident_id!r}")
        if self.der_sha256 is not None and not _SHA256_HEX.fullmatch(self.der_sha256):
            raise ValueError(f"der_sha256 must be 64 lower-case hex digits: {self.der_sha256!r}")
        require_aware(self.occurred_at, "occurred_at")
        weekly = self.transition is Transition.STILL_OVERDUE
        if weekly != (self.overdue_week is not None):
            raise ValueError("overdue_week is required for still_overdue and only for it")
        if self.overdue_week is not None and self.overdue_week < 1:
            raise ValueError(f"overdue_week counts from 1, got {self.overdue_week}")
        if self.disagreement is not None and self.transition is not Transition.SOURCES_DISAGREE:
            raise ValueError("disagreement is only for sources_disagree")
        if self.disagreement is not None and not _KIND.fullmatch(self.disagreement):
            raise ValueError(f"disagreement must be a kind name, got {self.disagreement!r}")
        if (self.episode is not None) != (self.transition in SOURCE_TRANSITIONS):
            raise ValueError("episode is required for source transitions and only for them")
        if self.episode is not None and "|" in self.episode:
            raise ValueError(f"episode must be free of '|': {self.episode!r}")

    @property
    def key(self) -> str:
        """The outbox key: incident | certificate ('-' for the incident) | transition [| week-N]
        [| disagreement kind] [| source episode]."""
        parts = [self.incident_id, self.der_sha256 or "-", str(self.transition)]
        if self.overdue_week is not None:
            parts.append(f"week-{self.overdue_week}")
        if self.disagreement is not None:
            parts.append(self.disagreement)
        if self.episode is not None:
            parts.append(self.episode)
        return "|".join(parts)


def is_historical(as_of: datetime, now: datetime, *, after: timedelta = HISTORICAL_AFTER) -> bool:
    """Whether an evaluation as of `as_of`, run at the real time `now`, replays the past."""
    require_aware(as_of, "as_of")
    require_aware(now, "now")
    return as_of < now - after


def overdue_week_at(deadline: datetime, as_of: datetime) -> int | None:
    """Which still_overdue week `as_of` falls in: week N begins at deadline + N * 7 days.

    None before the first full week has passed: deadline_breached covers the first 7 days.
    """
    require_aware(deadline, "deadline")
    require_aware(as_of, "as_of")
    weeks = (as_of - deadline) // timedelta(days=7)
    return weeks if weeks >= 1 else None


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AlertEvent)


def encode_event(event: AlertEvent) -> str:
    return _encoder.encode(event).decode("utf-8")


def decode_event(text: str | bytes) -> AlertEvent:
    return _decoder.decode(text)
