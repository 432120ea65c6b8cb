from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ctwatch import warehouse
from ctwatch.alerts import REPLAY_CHANNEL, Transition, enqueue, mark_failed, mark_sent, pending
from tests.alerts.events import AS_OF, OTHER_SHA256, digest_event, event

SENT_AT = datetime(2026, 3, 2, 12, tzinfo=UTC)
LIVE = ["email", "slack", "webhook"]


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = warehouse.connect(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


def _outbox_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("SELECT alert_key FROM alert_outbox ORDER BY alert_key").fetchall()]


def test_enqueuing_a_transition_again_adds_nothing(con: duckdb.DuckDBPyConnection) -> None:
    breached = event()
    new_incident = event(Transition.NEW_INCIDENT, der_sha256=None)
    assert enqueue(con, [breached, breached, new_incident]) == 2
    # A re-run of the same evaluation, and a later one that sees the same transition with newer facts.
    assert enqueue(con, [breached, new_incident]) == 0
    later = event(occurred_at=AS_OF + timedelta(hours=1), evidence="still not on the CRL")
    assert enqueue(con, [later]) == 0
    assert _outbox_keys(con) == sorted([breached.key, new_incident.key])
    stored = pending(con, live_channels=LIVE)
    assert {p.event for p in stored} == {breached, new_incident}  # the first facts are kept
    assert enqueue(con, []) == 0


def test_a_live_digest_is_enqueued_once_per_day_a_historical_one_once_per_evaluation(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # AS_OF is 2020-07-09T01:00Z: the hourly evaluations of that UTC day share one digest.
    day = datetime(2020, 7, 9, tzinfo=UTC)
    hourly = [digest_event(occurred_at=AS_OF + timedelta(hours=h), period_start=day) for h in range(23)]
    assert enqueue(con, hourly[:2]) == 1
    assert enqueue(con, hourly[2:]) == 0
    next_day = digest_event(occurred_at=day + timedelta(days=1), period_start=day + timedelta(days=1))
    assert enqueue(con, [next_day]) == 1
    replayed = [digest_event(occurred_at=AS_OF + timedelta(hours=h), period=None) for h in (0, 12, 12)]
    assert enqueue(con, replayed) == 2
    stored = {p.event for p in pending(con, live_channels=LIVE)}
    assert stored == {hourly[0], next_day, replayed[0], replayed[1]}  # the first of each key is kept


def test_enqueue_takes_part_in_the_callers_transaction(con: duckdb.DuckDBPyConnection) -> None:
    def evaluate_and_fail() -> None:
        with warehouse.transaction(con):
            enqueue(con, [event()])
            raise RuntimeError("the evaluator failed after enqueuing")

    with pytest.raises(RuntimeError):
        evaluate_and_fail()
    assert _outbox_keys(con) == []


def test_live_alerts_are_due_on_every_live_channel_and_historical_ones_on_the_replay_sink_only(
    con: duckdb.DuckDBPyConnection,
) -> None:
    live = event()
    historical = event(der_sha256=OTHER_SHA256, occurred_at=AS_OF - timedelta(days=1), historical=True)
    enqueue(con, [live, historical])
    due = {p.key: p.channels for p in pending(con, live_channels=LIVE)}
    assert due == {historical.key: (REPLAY_CHANNEL,), live.key: tuple(LIVE)}
    assert [p.key for p in pending(con, live_channels=[])] == [historical.key]
    with pytest.raises(ValueError, match="replay sink"):
        pending(con, live_channels=["slack", REPLAY_CHANNEL])


def test_a_sent_delivery_is_never_due_again_on_that_channel(con: duckdb.DuckDBPyConnection) -> None:
    alert = event()
    enqueue(con, [alert])
    mark_sent(con, alert.key, "slack", SENT_AT, "HTTP 200 ok")
    (still_due,) = pending(con, live_channels=LIVE)
    assert still_due.channels == ("email", "webhook")
    # A duplicate report of the same send and a late failure report change nothing.
    mark_sent(con, alert.key, "slack", SENT_AT + timedelta(minutes=1), "HTTP 200 again")
    assert mark_failed(con, alert.key, "slack", SENT_AT + timedelta(minutes=2), "timeout") is None
    row = con.execute(
        "SELECT status, attempts, sent_at, response_summary FROM alert_deliveries WHERE channel = 'slack'"
    ).fetchone()
    assert row == ("sent", 1, SENT_AT, "HTTP 200 ok")


def test_failed_deliveries_count_attempts_and_stop_at_the_limit(con: duckdb.DuckDBPyConnection) -> None:
    alert = event()
    enqueue(con, [alert])
    assert mark_failed(con, alert.key, "email", SENT_AT, "SMTPServerDisconnected") == 1
    (due,) = pending(con, live_channels=["email"], max_attempts=2)
    assert due.attempts == {"email": 1}
    assert mark_failed(con, alert.key, "email", SENT_AT + timedelta(minutes=2), "x" * 5000) == 2
    assert pending(con, live_channels=["email"], max_attempts=2) == []
    assert len(pending(con, live_channels=["email"], max_attempts=3)) == 1
    mark_sent(con, alert.key, "email", SENT_AT + timedelta(minutes=4), "accepted")
    assert pending(con, live_channels=["email"], max_attempts=9) == []
    error = con.execute("SELECT last_error FROM alert_deliveries").fetchone()
    assert error is not None
    assert len(error[0]) == 1000


def test_pending_gives_the_oldest_alerts_first_and_limits_alerts_not_channels(
    con: duckdb.DuckDBPyConnection,
) -> None:
    newest = event(occurred_at=AS_OF + timedelta(hours=2))
    oldest = event(Transition.NEW_INCIDENT, der_sha256=None, occurred_at=AS_OF - timedelta(days=8))
    middle = event(Transition.DEADLINE_IN_24H, occurred_at=AS_OF - timedelta(days=1))
    enqueue(con, [newest, oldest, middle])
    first_two = pending(con, live_channels=LIVE, limit=2)
    assert [p.key for p in first_two] == [oldest.key, middle.key]
    assert all(p.channels == tuple(LIVE) for p in first_two)
