"""holds_midnight_utc: which data intervals hold a 00:00 UTC (the daily revocation lists run then)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ctwatch.timeutil import holds_midnight_utc

FIVE_HOURS_WEST = timezone(timedelta(hours=-5))


def _utc(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2020, 7, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(_utc(1, 0), _utc(1, 4), True, id="starts-at-midnight"),
        pytest.param(_utc(1, 4), _utc(1, 8), False, id="inside-one-day"),
        pytest.param(_utc(1, 20), _utc(2, 0), False, id="ends-at-midnight-excluded"),
        pytest.param(_utc(1, 12), _utc(3, 0), True, id="36-hours-holds-the-middle-midnight"),
        pytest.param(_utc(1, 23, 59, 59), _utc(2, 0), False, id="last-second-before-midnight"),
        pytest.param(_utc(1, 23, 59, 59), _utc(2, 0, 0, 1), True, id="two-seconds-across-midnight"),
        pytest.param(_utc(1, 6), _utc(8, 6), True, id="weekly"),
        pytest.param(_utc(2, 0), _utc(2, 0), False, id="empty-at-midnight"),
        pytest.param(_utc(2, 5), _utc(2, 5), False, id="empty"),
    ],
)
def test_half_open_intervals(start: datetime, end: datetime, expected: bool) -> None:
    assert holds_midnight_utc(start, end) is expected


def test_other_zones_are_judged_in_utc() -> None:
    # 18:00 and 20:00 at -05:00 are 23:00Z and 01:00Z the next day: 2020-07-02T00:00Z lies between.
    evening = datetime(2020, 7, 1, 18, 0, tzinfo=FIVE_HOURS_WEST)
    assert holds_midnight_utc(evening, datetime(2020, 7, 1, 20, 0, tzinfo=FIVE_HOURS_WEST)) is True
    # 20:00 to 01:00 at -05:00 is 01:00Z to 06:00Z on 2020-07-02: local midnight, but no UTC one.
    night = datetime(2020, 7, 1, 20, 0, tzinfo=FIVE_HOURS_WEST)
    assert holds_midnight_utc(night, datetime(2020, 7, 2, 1, 0, tzinfo=FIVE_HOURS_WEST)) is False


def test_ends_may_be_in_different_zones() -> None:
    # 2020-07-01T20:00-05:00 is 2020-07-02T01:00Z, so [00:30Z, 01:00Z) on 2020-07-02 holds no midnight.
    assert holds_midnight_utc(_utc(2, 0, 30), datetime(2020, 7, 1, 20, 0, tzinfo=FIVE_HOURS_WEST)) is False
    assert holds_midnight_utc(_utc(1, 23, 30), datetime(2020, 7, 1, 20, 0, tzinfo=FIVE_HOURS_WEST)) is True


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2020, 7, 1, 0, 0), _utc(1, 4)),
        (_utc(1, 0), datetime(2020, 7, 1, 4, 0)),
    ],
    ids=["naive-start", "naive-end"],
)
def test_naive_ends_are_refused(start: datetime, end: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        holds_midnight_utc(start, end)


def test_an_interval_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        holds_midnight_utc(_utc(2, 4), _utc(2, 0))
