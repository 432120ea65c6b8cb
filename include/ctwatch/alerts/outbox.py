"""The alert outbox in the warehouse: enqueue transitions once, track delivery per channel.

A send runs as: `pending` (then close the connection), send over the network, reopen, then
`mark_sent` / `mark_failed` for every attempt. A delivered (alert, channel) is never due again,
so Airflow retries and re-runs resend only what failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from ctwatch.alerts.model import AlertEvent, decode_event, encode_event
from ctwatch.timeutil import require_aware
from ctwatch.warehouse import load_sql

REPLAY_CHANNEL = "replay"  # where historical alerts go; live channels never see them
DEFAULT_MAX_ATTEMPTS = 5  # per (alert, channel); after that the delivery stays failed for staff to see
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True, slots=True)
class PendingAlert:
    key: str
    event: AlertEvent
    channels: tuple[str, ...]  # channels this alert is still due on
    attempts: dict[str, int]  # failed attempts so far, per due channel


def enqueue(con: duckdb.DuckDBPyConnection, events: Iterable[AlertEvent]) -> int:
    """Add the events whose key is not in the outbox yet; return how many were added.

    Enqueuing the same transition again (a retried or re-run evaluation) adds nothing; within one
    call the first event of a key wins. One statement: safe inside the caller's transaction.
    """
    batch = list(events)
    if not batch:
        return 0
    params = {
        "alert_key": [e.key for e in batch],
        "incident_id": [e.incident_id for e in batch],
        "der_sha256": [e.der_sha256 for e in batch],
        "transition": [str(e.transition) for e in batch],
        "occurred_at": [e.occurred_at for e in batch],
        "historical": [e.historical for e in batch],
        "event_json": [encode_event(e) for e in batch],
    }
    added = con.execute(load_sql("alerts/enqueue"), params).fetchone()  # DuckDB: the inserted-row count
    return int(added[0]) if added else 0


def pending(
    con: duckdb.DuckDBPyConnection,
    *,
    live_channels: Sequence[str],
    limit: int = 100,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> list[PendingAlert]:
    """The oldest `limit` alerts still due on some channel, oldest first.

    A live alert is due on each of `live_channels` without a 'sent' delivery; a historical one
    only on `REPLAY_CHANNEL`. Failed deliveries stay due until they used `max_attempts`.
    """
    if REPLAY_CHANNEL in live_channels:
        raise ValueError(f"{REPLAY_CHANNEL!r} is the replay sink, not a live channel")
    rows = con.execute(
        load_sql("alerts/pending"),
        {
            "live_channels": list(live_channels),
            "replay_channel": REPLAY_CHANNEL,
            "max_attempts": max_attempts,
            "limit": limit,
        },
    ).fetchall()
    by_key: dict[str, tuple[str, list[str], dict[str, int]]] = {}
    for alert_key, event_json, channel, attempts in rows:
        _, channels, attempts_by_channel = by_key.setdefault(alert_key, (event_json, [], {}))
        channels.append(channel)
        attempts_by_channel[channel] = attempts
    return [
        PendingAlert(key=key, event=decode_event(event_json), channels=tuple(channels), attempts=attempts)
        for key, (event_json, channels, attempts) in by_key.items()
    ]


def mark_sent(
    con: duckdb.DuckDBPyConnection, key: str, channel: str, sent_at: datetime, response_summary: str
) -> None:
    """Record that `channel` accepted alert `key` (final: it is never due on that channel again)."""
    require_aware(sent_at, "sent_at")
    con.execute(
        load_sql("alerts/mark_sent"),
        {"alert_key": key, "channel": channel, "sent_at": sent_at, "response_summary": response_summary},
    )


def mark_failed(
    con: duckdb.DuckDBPyConnection, key: str, channel: str, failed_at: datetime, error: str
) -> int | None:
    """Count a failed attempt; return the attempts so far, or None if the delivery was already sent."""
    require_aware(failed_at, "failed_at")
    row = con.execute(
        load_sql("alerts/mark_failed"),
        {"alert_key": key, "channel": channel, "failed_at": failed_at, "error": error[:MAX_ERROR_CHARS]},
    ).fetchone()
    return None if row is None else int(row[0])
