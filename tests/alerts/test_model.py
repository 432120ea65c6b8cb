from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ctwatch.alerts import AlertEvent, OverdueDigest, Transition, is_historical, overdue_digest_of
from ctwatch.alerts.model import decode_event, digest_period_start, encode_event
from tests.alerts.events import (
    AS_OF,
    CERT_SHA256,
    HOSTILE_SUBJECTS,
    OTHER_SHA256,
    digest_event,
    event,
    facts,
    overdue,
)

INCIDENT = "e_ca_ocsp_signing_eku_without_nocheck/SECOM"
THIRD_SHA256 = "c3" * 32


def test_the_key_is_incident_certificate_transition_and_the_digest_period() -> None:
    assert event().key == f"{INCIDENT}|{CERT_SHA256}|deadline_breached"
    assert event(Transition.NEW_INCIDENT, der_sha256=None).key.endswith("|-|new_incident")
    # A live digest is keyed by its period, a historical one by its evaluation's as-of.
    assert digest_event().key == f"{INCIDENT}|-|still_overdue|period-2020-07-09T00:00:00Z"
    assert digest_event(period=None).key == f"{INCIDENT}|-|still_overdue|as-of-2020-07-09T01:00:00Z"
    later_that_day = digest_event(
        overdue(delay=timedelta(days=1, hours=9)), occurred_at=AS_OF + timedelta(hours=8)
    )
    assert later_that_day.key == digest_event().key  # the same day: the same alert
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
        ({"transition": Transition.STILL_OVERDUE}, "overdue_digest is required"),
        ({"overdue_digest": digest_event().overdue_digest}, "overdue_digest is required"),
        ({"disagreement": "onecrl_without_ca_revocation"}, "only for sources_disagree"),
        ({"transition": Transition.SOURCES_DISAGREE, "disagreement": "a|b"}, "a kind name"),
    ],
)
def test_an_event_that_could_not_be_keyed_or_timed_is_refused(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        event(**changes)  # type: ignore[arg-type]


def _digest(period: timedelta | None, start: datetime) -> OverdueDigest:
    return OverdueDigest(period_start=start, period=period, certificates=(overdue(),))


DAY = timedelta(days=1)
DAY_START = datetime(2020, 7, 9, tzinfo=UTC)  # AS_OF is 2020-07-09T01:00Z


@pytest.mark.parametrize(
    ("der_sha256", "historical", "digest", "message"),
    [
        (CERT_SHA256, False, _digest(DAY, DAY_START), "incident-level"),
        (None, True, _digest(DAY, DAY_START), "a historical digest covers its evaluation"),
        (None, False, _digest(None, AS_OF), "a live one a period"),
        (None, True, _digest(None, AS_OF - timedelta(hours=1)), "starts at its evaluation's as-of"),
        (None, False, _digest(DAY, DAY_START - DAY), "must hold its evaluation's as-of"),
        (None, False, _digest(DAY, AS_OF + timedelta(seconds=1)), "must hold its evaluation's as-of"),
        (None, False, _digest(timedelta(hours=-1), AS_OF), "must hold its evaluation's as-of"),
    ],
)
def test_a_digest_is_incident_level_and_covers_its_evaluation(
    der_sha256: str | None, historical: bool, digest: OverdueDigest, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        event(Transition.STILL_OVERDUE, der_sha256=der_sha256, historical=historical, overdue_digest=digest)


def test_a_digest_lists_at_least_one_certificate() -> None:
    with pytest.raises(ValueError, match="at least one"):
        OverdueDigest(period_start=DAY_START, period=DAY, certificates=())


def test_naive_fact_times_are_refused() -> None:
    with pytest.raises(ValueError, match="deadline must be timezone-aware"):
        facts(deadline=datetime(2020, 7, 8))


@pytest.mark.parametrize("subject", HOSTILE_SUBJECTS.values(), ids=HOSTILE_SUBJECTS.keys())
def test_events_survive_the_outbox_encoding_unchanged(subject: str) -> None:
    original = event(subject=subject)
    decoded = decode_event(encode_event(original))
    assert decoded == original
    assert isinstance(decoded, AlertEvent)
    assert decoded.facts.delay == timedelta(days=1, hours=1)
    digest = digest_event(overdue(subject=subject), overdue(OTHER_SHA256, subject=None, serial_hex=None))
    assert decode_event(encode_event(digest)) == digest
    assert decode_event(encode_event(digest_event(period=None))) == digest_event(period=None)


def test_an_evaluation_more_than_a_day_behind_the_real_time_is_historical() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert not is_historical(now, now)
    assert not is_historical(now - timedelta(hours=6), now)  # a late hourly run is still live
    assert not is_historical(now - timedelta(days=1), now)
    assert is_historical(now - timedelta(days=1, seconds=1), now)
    assert is_historical(datetime(2020, 7, 9, tzinfo=UTC), now)  # the July 2020 backfill


@pytest.mark.parametrize(
    ("as_of", "period", "start"),
    [
        (datetime(2026, 12, 3, 17, 45, tzinfo=UTC), DAY, datetime(2026, 12, 3, tzinfo=UTC)),
        (datetime(2026, 12, 3, tzinfo=UTC), DAY, datetime(2026, 12, 3, tzinfo=UTC)),
        (datetime(2026, 12, 3, 23, 59, 59, tzinfo=UTC), DAY, datetime(2026, 12, 3, tzinfo=UTC)),
        (datetime(2026, 12, 3, 11, 59, tzinfo=UTC), timedelta(hours=12), datetime(2026, 12, 3, tzinfo=UTC)),
        (
            datetime(2026, 12, 3, 17, 45, tzinfo=UTC),
            timedelta(hours=12),
            datetime(2026, 12, 3, 12, tzinfo=UTC),
        ),
        # Thursday 2026-12-03: its week began on Monday 2026-11-30; a Monday begins its own.
        (datetime(2026, 12, 3, 17, 45, tzinfo=UTC), timedelta(days=7), datetime(2026, 11, 30, tzinfo=UTC)),
        (datetime(2026, 11, 30, tzinfo=UTC), timedelta(days=7), datetime(2026, 11, 30, tzinfo=UTC)),
        # 01:30 at UTC+5 is 20:30 UTC the day before: periods are UTC days.
        (
            datetime(2026, 12, 3, 1, 30, tzinfo=timezone(timedelta(hours=5))),
            DAY,
            datetime(2026, 12, 2, tzinfo=UTC),
        ),
    ],
)
def test_live_digest_periods_are_utc_days_or_monday_weeks(
    as_of: datetime, period: timedelta, start: datetime
) -> None:
    assert digest_period_start(as_of, period) == start


def test_a_digest_lists_the_most_overdue_first_and_is_none_without_overdue_certificates() -> None:
    # Equal delays are ordered by fingerprint: "a1…" before "c3…".
    shortest = overdue(CERT_SHA256, delay=timedelta(hours=2))
    longest = overdue(THIRD_SHA256, delay=timedelta(days=3))
    tied = overdue(OTHER_SHA256, delay=timedelta(days=3))
    digest = overdue_digest_of([shortest, longest, tied], AS_OF, DAY)
    assert digest is not None
    assert digest.certificates == (tied, longest, shortest)
    assert (digest.period_start, digest.period) == (DAY_START, DAY)
    historical = overdue_digest_of([shortest], AS_OF, None)
    assert historical is not None
    assert (historical.period_start, historical.period) == (AS_OF, None)
    assert overdue_digest_of([], AS_OF, DAY) is None
