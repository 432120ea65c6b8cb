"""Time parsing and UTC calendar checks shared by the command lines, configuration readers and DAGs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def parse_utc(text: str) -> datetime:
    """An ISO 8601 date or time as an aware UTC datetime.

    A date alone means 00:00 UTC and a time without zone means UTC: every time ctwatch shows or
    accepts is UTC.
    """
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def day_start(day: date) -> datetime:
    """A date-only effective date means 00:00:00 UTC of that day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def require_aware(value: datetime, name: str) -> datetime:
    """`value` itself; ValueError naming it when it carries no time zone (every time ctwatch computes
    with is an instant, and a naive one would silently mean local time)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")
    return value


def iso_z(moment: datetime) -> str:
    """An instant as ctwatch writes it in words and evidence: ISO 8601 in UTC to the second, e.g.
    2020-07-08T00:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_or_none(value: datetime | None) -> datetime | None:
    """`value` in UTC (DuckDB hands TIMESTAMPTZ back in the session zone); None stays None."""
    return None if value is None else value.astimezone(UTC)


def holds_midnight_utc(start: datetime, end: datetime) -> bool:
    """Whether the half-open interval [start, end) holds a 00:00 UTC; [t, t) is empty and holds none.

    The daily revocation lists run only in a data interval that holds one, whatever its length.
    Both ends must be timezone-aware (other zones are converted to UTC) and end must not precede start.
    """
    start = require_aware(start, "interval start").astimezone(UTC)
    end = require_aware(end, "interval end").astimezone(UTC)
    if end < start:
        raise ValueError(f"interval ends before it starts: [{start.isoformat()}, {end.isoformat()})")
    first_midnight = datetime.combine(start.date(), time(), tzinfo=UTC)
    if first_midnight < start:
        first_midnight += timedelta(days=1)
    return first_midnight < end
