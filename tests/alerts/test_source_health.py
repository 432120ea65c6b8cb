"""source_down after a source has failed for longer than the threshold, source_recovered when it
answers again after such a streak; each once per streak. Expected alerts are worked out by hand
from the checks below (threshold 24 h)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.alerts import Transition
from ctwatch.alerts.source_health import enqueue_source_alerts, source_events
from ctwatch.evidence.health import SourceCheck
from ctwatch.warehouse import source_health

D0 = datetime(2024, 5, 1, tzinfo=UTC)
H = timedelta(hours=1)
DAY = timedelta(hours=24)
NOW = datetime(2024, 5, 3, tzinfo=UTC)  # the evaluations below are live, not replays
CRL = "http://crl.example.test/ca.crl"


def _checks() -> list[SourceCheck]:
    # the CRL: answered at 00:00, failed every 4 h from 04:00 to the next day's 04:00, answered at 08:00
    crl = [SourceCheck("crl", CRL, D0)]
    crl += [SourceCheck("crl", CRL, D0 + k * 4 * H, "HTTP 503") for k in range(1, 8)]
    crl.append(SourceCheck("crl", CRL, D0 + DAY + 8 * H))
    # OneCRL never answered, from 00:00 on
    onecrl = [
        SourceCheck("onecrl", "https://onecrl.test/", D0 + k * 4 * H, "connection refused") for k in range(7)
    ]
    # CCADB failed once, four hours
    ccadb = [
        SourceCheck("ccadb", "https://ccadb.test/", D0),
        SourceCheck("ccadb", "https://ccadb.test/", D0 + 4 * H, "timeout"),
        SourceCheck("ccadb", "https://ccadb.test/", D0 + 8 * H),
    ]
    return crl + onecrl + ccadb


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    con = warehouse.connect(path)
    source_health.record_checks(con, _checks())
    con.close()
    return path


def _events(path: Path, as_of: datetime) -> set[tuple[str, str, datetime]]:
    con = warehouse.connect(path, read_only=True)
    try:
        events = source_events(source_health.failing_streaks(con, as_of), as_of, DAY, now=NOW)
    finally:
        con.close()
    return {(str(e.transition), str(e.facts.source), e.facts.failing_since) for e in events}  # type: ignore[misc]


def test_a_source_is_down_only_after_failing_longer_than_the_threshold(warehouse_file: Path) -> None:
    # 04:00 the next day: the CRL has failed for exactly 24 h (not longer); OneCRL for 28 h
    assert _events(warehouse_file, D0 + DAY + 4 * H) == {("source_down", "onecrl", D0)}
    # 05:00: the CRL's streak (from D0 04:00) is 25 h old
    assert _events(warehouse_file, D0 + DAY + 5 * H) == {
        ("source_down", "onecrl", D0),
        ("source_down", "crl", D0 + 4 * H),
    }
    # 09:00: the CRL answered at 08:00 after 28 h of failures; CCADB's 4-hour blip never counts
    assert _events(warehouse_file, D0 + DAY + 9 * H) == {
        ("source_down", "onecrl", D0),
        ("source_recovered", "crl", D0 + 4 * H),
    }


def test_each_streak_alerts_once_and_names_the_source(warehouse_file: Path) -> None:
    first = enqueue_source_alerts(warehouse_file, D0 + DAY + 5 * H, DAY, now=NOW)
    again = enqueue_source_alerts(warehouse_file, D0 + DAY + 6 * H, DAY, now=NOW)
    recovered = enqueue_source_alerts(warehouse_file, D0 + DAY + 9 * H, DAY, now=NOW)
    assert (first, again, recovered) == (2, 0, 1)
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        rows = con.execute("SELECT transition, alert_key FROM alert_outbox ORDER BY alert_key").fetchall()
    finally:
        con.close()
    down = str(Transition.SOURCE_DOWN)
    assert rows == [
        (down, f"source-health|-|source_down|crl {CRL} 2024-05-01T04:00:00Z"),
        (down, "source-health|-|source_down|onecrl https://onecrl.test/ 2024-05-01T00:00:00Z"),
        (
            str(Transition.SOURCE_RECOVERED),
            f"source-health|-|source_recovered|crl {CRL} 2024-05-01T04:00:00Z",
        ),
    ]


def test_the_health_view_has_the_last_success_and_failure(warehouse_file: Path) -> None:
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        rows = source_health.health(con, D0 + DAY + 9 * H)
    finally:
        con.close()
    by_source = {r["source"]: (r["last_success_at"], r["last_failure_at"], r["last_failure"]) for r in rows}
    assert by_source == {
        "ccadb": (D0 + 8 * H, D0 + 4 * H, "timeout"),
        "crl": (D0 + DAY + 8 * H, D0 + DAY + 4 * H, "HTTP 503"),
        "onecrl": (None, D0 + DAY, "connection refused"),
    }
