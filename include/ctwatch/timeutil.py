"""Time parsing shared by every command line and configuration reader."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_utc(text: str) -> datetime:
    """An ISO 8601 date or time as an aware UTC datetime.

    A date alone means 00:00 UTC and a time without zone means UTC: every time ctwatch shows or
    accepts is UTC.
    """
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    """`value` in UTC (DuckDB hands TIMESTAMPTZ back in the session zone); None stays None."""
    return None if value is None else value.astimezone(UTC)
