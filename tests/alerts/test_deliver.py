"""deliver_pending over a real warehouse: once per channel across re-runs and failures; replay file."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.alerts import PendingAlert, ReplaySink, Transition, deliver_pending, enqueue
from tests.alerts.events import AS_OF, OTHER_SHA256, event


class Recorder:
    """A channel that records what it was sent, and fails the first `failures` sends."""

    def __init__(self, name: str, failures: int = 0) -> None:
        self.name = name
        self.failures = failures
        self.received: list[str] = []

    def send(self, alert: PendingAlert) -> str:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("connection reset by peer")
        self.received.append(alert.key)
        return "ok"


def _enqueue(warehouse_file: Path, *events: object) -> None:
    con = warehouse.connect(warehouse_file)
    try:
        enqueue(con, events)  # type: ignore[arg-type]
    finally:
        con.close()


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def test_each_alert_reaches_each_channel_once_across_runs(warehouse_file: Path, tmp_path: Path) -> None:
    live = [event(), event(Transition.NEW_INCIDENT, der_sha256=None, occurred_at=AS_OF - timedelta(days=8))]
    historical = event(der_sha256=OTHER_SHA256, historical=True)
    _enqueue(warehouse_file, *live, historical)
    slack, email = Recorder("slack"), Recorder("email")
    replay = ReplaySink(tmp_path / "alerts" / "replay.jsonl")

    first = deliver_pending(warehouse_file, [slack, email], replay)
    second = deliver_pending(warehouse_file, [slack, email], ReplaySink(replay.path))

    assert (first.sent, first.failed, second.sent) == (5, 0, 0)
    assert slack.received == email.received == [live[1].key, live[0].key]  # oldest first
    lines = [json.loads(line) for line in replay.path.read_text().splitlines()]
    assert [line["key"] for line in lines] == [historical.key]
    assert lines[0]["alert"]["event"]["historical"] is True


def test_a_failed_send_is_retried_without_repeating_what_was_delivered(
    warehouse_file: Path, tmp_path: Path
) -> None:
    alerts = [event(), event(der_sha256=OTHER_SHA256)]
    _enqueue(warehouse_file, *alerts)
    slack, webhook = Recorder("slack"), Recorder("webhook", failures=1)
    replay = ReplaySink(tmp_path / "replay.jsonl")

    first = deliver_pending(warehouse_file, [slack, webhook], replay)
    # The webhook failed once: its other alert waited instead of trying the broken endpoint again.
    assert (first.sent, first.failed, first.deferred, first.given_up) == (2, 1, 1, 0)
    assert first.errors == (f"{alerts[0].key} -> webhook: ConnectionError: connection reset by peer",)

    retry = deliver_pending(warehouse_file, [slack, webhook], replay)
    assert (retry.sent, retry.failed) == (2, 0)
    assert slack.received == [a.key for a in alerts]
    assert webhook.received == [a.key for a in alerts]
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        attempts = con.execute(
            "SELECT channel, status, attempts FROM alert_deliveries WHERE alert_key = ? ORDER BY channel",
            [alerts[0].key],
        ).fetchall()
    finally:
        con.close()
    assert attempts == [("slack", "sent", 1), ("webhook", "sent", 2)]


def test_a_channel_that_keeps_failing_is_given_up_after_the_attempt_limit(
    warehouse_file: Path, tmp_path: Path
) -> None:
    _enqueue(warehouse_file, event())
    broken = Recorder("email", failures=10)
    replay = ReplaySink(tmp_path / "replay.jsonl")
    summaries = [deliver_pending(warehouse_file, [broken], replay, max_attempts=3) for _ in range(4)]
    assert [(s.failed, s.given_up) for s in summaries] == [(1, 0), (1, 0), (1, 1), (0, 0)]
    assert broken.failures == 7


def test_the_replay_sink_writes_each_alert_once_even_if_the_outbox_was_not_marked(tmp_path: Path) -> None:
    path = tmp_path / "replay.jsonl"
    path.write_text('{"key": "earlier|-|new_incident", "alert": {}}\n{"key": "cut sho')  # crashed mid-line
    alert = PendingAlert(key=event().key, event=event(historical=True), channels=("replay",), attempts={})
    assert ReplaySink(path).send(alert) == "appended to replay.jsonl"
    assert ReplaySink(path).send(alert) == "already in replay.jsonl"  # a fresh process re-reads the file
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert json.loads(lines[2])["key"] == alert.key
