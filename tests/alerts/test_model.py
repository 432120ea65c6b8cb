from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ctwatch.alerts import AlertEvent, Transition, is_historical, overdue_week_at
from ctwatch.alerts.model import decode_event, encode_event
from tests.alerts.events import CERT_SHA256, DEADLINE, HOSTILE_SUBJECTS, event, facts


def test_the_key_is_incident_certificate_transition_and_the_overdue_week() -> None:
    assert event().key == f"e_ca_ocsp_signing_eku_without_nocheck/SECOM|{CERT_SHA256}|deadline_breached"
    assert event(Transition.NEW_INCIDENT, der_sha256=None).key.endswith("|-|new_incident")
    week_2 = event(Transition.STILL_OVERDUE, overdue_week=2)
    week_3 = event(Transition.STILL_OVERDUE, overdue_week=3)
    assert week_2.key.endswith("|still_overdue|week-2")
    assert week_2.key != week_3.key
    contradicted = event(Transition.SOURCES_DISAGREE, disagreement="report_revoked_ca_channel_not")
    blocked = event(Transition.SOURCES_DISAGREE, disagreement="onecrl_without_ca_revocation")
    assert contradicted.key.endswith("|sources_disagree|report_revoked_ca_channel_not")
    assert contradicted.key != blocked.key  # one alert per kind of disagreement


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"occurred_at": datetime(2020, 7, 9)}, "timezone-aware"),
        ({"der_sha256": "0F" * 32}, "lower-case hex"),
        ({"der_sha256": "ab"}, "lower-case hex"),
        ({"incident_id": "a|b"}, "free of '|'"),
        ({"incident_id": ""}, "non-empty"),
        ({"transition": Transition.STILL_OVERDUE}, "overdue_week is required"),
        ({"overdue_week": 1}, "overdue_week is required"),
        ({"transition": Transition.STILL_OVERDUE, "overdue_week": 0}, "counts from 1"),
        ({"disagreement": "onecrl_without_ca_revocation"}, "only for sources_disagree"),
        ({"transition": Transition.SOURCES_DISAGREE, "disagreement": "a|b"}, "a kind name"),
    ],
)
def test_an_event_that_could_not_be_keyed_or_timed_is_refused(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        event(**changes)  # type: ignore[arg-type]


def test_naive_fact_times_are_refused() -> None:
    with pytest.raises(ValueError, match="deadline must be timezone-aware"):
        facts(deadline=datetime(2020, 7, 8))


@pytest.mark.parametrize("subject", HOSTILE_SUBJECTS.values(), ids=HOSTILE_SUBJECTS.keys())
def test_events_survive_the_outbox_encoding_unchanged(subject: str) -> None:
    original = event(Transition.STILL_OVERDUE, overdue_week=4, subject=subject)
    decoded = decode_event(encode_event(original))
    assert decoded == original
    assert isinstance(decoded, AlertEvent)
    assert decoded.facts.delay == timedelta(days=1, hours=1)


def test_an_evaluation_more_than_a_day_behind_the_real_time_is_historical() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert not is_historical(now, now)
    assert not is_historical(now - timedelta(hours=6), now)  # a late hourly run is still live
    assert not is_historical(now - timedelta(days=1), now)
    assert is_historical(now - timedelta(days=1, seconds=1), now)
    assert is_historical(datetime(2020, 7, 9, tzinfo=UTC), now)  # the July 2020 backfill


def test_still_overdue_weeks_start_a_full_week_after_the_deadline() -> None:
    assert overdue_week_at(DEADLINE, DEADLINE - timedelta(hours=1)) is None
    assert overdue_week_at(DEADLINE, DEADLINE + timedelta(days=6, hours=23)) is None
    assert overdue_week_at(DEADLINE, DEADLINE + timedelta(days=7)) == 1
    assert overdue_week_at(DEADLINE, DEADLINE + timedelta(days=13, hours=23)) == 1
    assert overdue_week_at(DEADLINE, DEADLINE + timedelta(days=14)) == 2
