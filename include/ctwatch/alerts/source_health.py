"""Source alerts: `source_down` when a source has failed for longer than `source_down_after`, and
`source_recovered` when it answers again after such a streak. One alert per streak (the streak's
first failure is in the key), so a source that goes down again is alerted again."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ctwatch import warehouse
from ctwatch.alerts.model import SOURCE_HEALTH_INCIDENT, AlertEvent, AlertFacts, Transition, is_historical
from ctwatch.alerts.outbox import enqueue
from ctwatch.timeutil import iso_z, require_aware, utc_or_none
from ctwatch.warehouse import source_health


def source_events(
    streaks: list[dict[str, Any]], as_of: datetime, down_after: timedelta, *, now: datetime
) -> list[AlertEvent]:
    """The transitions `warehouse.source_health.failing_streaks` rows show as of `as_of`."""
    events = []
    for row in streaks:
        since = utc_or_none(row["failing_since"])
        recovered = utc_or_none(row["recovered_at"])
        if since is None:
            continue
        if recovered is None and as_of - since > down_after:
            transition = Transition.SOURCE_DOWN
        elif recovered is not None and recovered - since > down_after:
            transition = Transition.SOURCE_RECOVERED
        else:
            continue
        source, target = str(row["source"]), str(row["target"])
        last_success = utc_or_none(row["last_success_at"])
        before = f"; last answered {iso_z(last_success)}" if last_success and last_success < since else ""
        events.append(
            AlertEvent(
                incident_id=SOURCE_HEALTH_INCIDENT,
                der_sha256=None,
                transition=transition,
                occurred_at=as_of,
                historical=is_historical(as_of, now),
                facts=AlertFacts(
                    ca_owner="",
                    source=source,
                    source_target=target,
                    failing_since=since,
                    recovered_at=recovered,
                    evidence=f"last failure: {row['last_failure']}{before}",
                ),
                episode=f"{source} {target} {iso_z(since)}".replace("|", "%7C"),
            )
        )
    return events


def enqueue_source_alerts(
    warehouse_file: Path, as_of: datetime, down_after: timedelta, *, now: datetime
) -> int:
    """Enqueue the source transitions as of `as_of`; returns how many alerts were new."""
    require_aware(as_of, "as_of")
    con = warehouse.connect(warehouse_file)
    try:
        events = source_events(source_health.failing_streaks(con, as_of), as_of, down_after, now=now)
        return enqueue(con, events)
    finally:
        con.close()
