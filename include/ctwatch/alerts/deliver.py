"""Send the outbox's pending alerts through channels, without holding the warehouse while sending."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from ctwatch import warehouse
from ctwatch.alerts.outbox import DEFAULT_MAX_ATTEMPTS, PendingAlert, mark_failed, mark_sent, pending

log = logging.getLogger(__name__)


class Channel(Protocol):
    """Where alerts go. `send` returns a short summary of the channel's answer, or raises."""

    @property
    def name(self) -> str: ...

    def send(self, alert: PendingAlert) -> str: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    channel: str
    at: datetime
    summary: str  # the channel's answer, or the error
    sent: bool


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    sent: int
    failed: int  # attempts that failed in this run
    given_up: int  # of those, deliveries that used their last attempt
    deferred: int  # not tried: their channel already failed in this run
    errors: tuple[str, ...]  # "key -> channel: error" for each failure


def deliver_pending(
    warehouse_file: Path,
    live_channels: Sequence[Channel],
    replay: Channel,
    *,
    limit: int = 100,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DeliverySummary:
    """Deliver up to `limit` pending alerts: live ones on every live channel, historical ones to `replay`.

    Reads the pending rows and closes the warehouse, sends, then reopens it to record each attempt,
    so a slow channel never holds the DuckDB lock. After a channel fails once, its remaining
    alerts wait for the next attempt instead of each waiting out the same timeout.
    """
    by_name = {channel.name: channel for channel in (*live_channels, replay)}
    con = warehouse.connect(warehouse_file)
    try:
        due = pending(
            con, live_channels=[c.name for c in live_channels], limit=limit, max_attempts=max_attempts
        )
    finally:
        con.close()

    outcomes: list[Outcome] = []
    broken: set[str] = set()
    deferred = 0
    for alert in due:
        for name in alert.channels:
            if name in broken:
                deferred += 1
                continue
            try:
                summary = by_name[name].send(alert)
            except Exception as exc:  # any failure of a channel is recorded, and retried later
                broken.add(name)
                outcomes.append(Outcome(alert.key, name, clock(), f"{type(exc).__name__}: {exc}", sent=False))
                log.warning("alert %s -> %s failed: %s", alert.key, name, exc)
            else:
                outcomes.append(Outcome(alert.key, name, clock(), summary, sent=True))
                log.info("alert %s -> %s: %s", alert.key, name, summary)

    given_up = 0
    con = warehouse.connect(warehouse_file)
    try:
        with warehouse.transaction(con):
            for outcome in outcomes:
                if outcome.sent:
                    mark_sent(con, outcome.key, outcome.channel, outcome.at, outcome.summary)
                else:
                    attempts = mark_failed(con, outcome.key, outcome.channel, outcome.at, outcome.summary)
                    given_up += attempts is not None and attempts >= max_attempts
    finally:
        con.close()
    failures = [o for o in outcomes if not o.sent]
    return DeliverySummary(
        sent=len(outcomes) - len(failures),
        failed=len(failures),
        given_up=given_up,
        deferred=deferred,
        errors=tuple(f"{o.key} -> {o.channel}: {o.summary}" for o in failures),
    )
