"""Outbox rows written before still_overdue became a digest: what migration 0014 does with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from ctwatch import warehouse
from ctwatch.alerts import Transition, pending
from ctwatch.alerts.model import decode_event
from ctwatch.warehouse import schema

DIGESTS_MIGRATION = 14
CERT = "a1" * 32
INCIDENT = "ocsp-eku-2020:SECOM Trust Systems"
WEEKLY_KEY = f"{INCIDENT}|{CERT}|still_overdue|week-1"
BREACHED_KEY = f"{INCIDENT}|{CERT}|deadline_breached"
SENT_AT = datetime(2020, 7, 17, 0, 5, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _old_event(transition: str, occurred_at: str, overdue_week: str) -> str:
    """An event as the alert model before the digests encoded it: every one carried overdue_week."""
    return (
        f'{{"incident_id":"{INCIDENT}","der_sha256":"{CERT}","transition":"{transition}",'
        f'"occurred_at":"{occurred_at}","historical":false,'
        '"facts":{"ca_owner":"SECOM Trust Systems","subordinate_ca_owner":null,"rule_id":null,'
        '"subject":"CN=JPRS <x>","issuer":null,"serial_hex":"1a","deadline":"2020-07-08T17:30:00Z",'
        '"delay":"P8DT23400S","clock_started_at":null,"clock_source":null,"bug_url":null,"evidence":null,'
        '"source":null,"source_target":null,"failing_since":null,"recovered_at":null},'
        f'"overdue_week":{overdue_week},"disagreement":null,"episode":null}}'
    )


OLD_WEEKLY = _old_event("still_overdue", "2020-07-17T00:00:00Z", "1")
OLD_BREACHED = _old_event("deadline_breached", "2020-07-10T00:00:00Z", "null")


def test_the_new_model_refuses_old_events_rather_than_misread_them() -> None:
    for old in (OLD_WEEKLY, OLD_BREACHED):
        with pytest.raises(msgspec.ValidationError, match="overdue_week"):
            decode_event(old)


def test_weekly_alerts_go_and_the_others_stay_deliverable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "warehouse.duckdb"
    shipped = schema.available_migrations()
    with monkeypatch.context() as before_digests:
        before_digests.setattr(
            schema,
            "available_migrations",
            lambda: tuple(m for m in shipped if m.version < DIGESTS_MIGRATION),
        )
        con = warehouse.connect(file)
        con.executemany(
            "INSERT INTO alert_outbox (alert_key, incident_id, der_sha256, transition, overdue_week, "
            "occurred_at, historical, event_json) VALUES (?, ?, ?, ?, ?, ?, false, ?)",
            [
                [BREACHED_KEY, INCIDENT, CERT, "deadline_breached", None, utc(2020, 7, 10), OLD_BREACHED],
                [WEEKLY_KEY, INCIDENT, CERT, "still_overdue", 1, utc(2020, 7, 17), OLD_WEEKLY],
            ],
        )
        # Both were sent on Slack; e-mail had failed once for each.
        con.executemany(
            "INSERT INTO alert_deliveries (alert_key, channel, status, attempts, last_attempt_at, sent_at) "
            "VALUES (?, ?, ?, 1, ?, ?)",
            [
                [key, channel, status, SENT_AT, SENT_AT if status == "sent" else None]
                for key in (BREACHED_KEY, WEEKLY_KEY)
                for channel, status in (("slack", "sent"), ("email", "failed"))
            ],
        )
        con.close()

    con = warehouse.connect(file)  # applies 0014
    try:
        outbox = con.execute("SELECT alert_key FROM alert_outbox").fetchall()
        deliveries = con.execute(
            "SELECT alert_key, channel, status FROM alert_deliveries ORDER BY channel"
        ).fetchall()
        columns = {row[0] for row in con.execute("DESCRIBE alert_outbox").fetchall()}
        due = pending(con, live_channels=["email", "slack"])
    finally:
        con.close()
    assert outbox == [(BREACHED_KEY,)]
    assert deliveries == [(BREACHED_KEY, "email", "failed"), (BREACHED_KEY, "slack", "sent")]
    assert "overdue_week" not in columns
    (breached,) = due
    assert (breached.key, breached.channels, breached.attempts) == (BREACHED_KEY, ("email",), {"email": 1})
    assert breached.event.key == BREACHED_KEY
    assert breached.event.transition is Transition.DEADLINE_BREACHED
    assert breached.event.occurred_at == utc(2020, 7, 10)
    assert breached.event.facts.subject == "CN=JPRS <x>"
    assert breached.event.facts.delay == timedelta(days=8, hours=6, minutes=30)
