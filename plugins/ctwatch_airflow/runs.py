"""What a task run answers for, read from its Airflow context.

A scheduled or backfill run has a data interval and answers as of its end. A run triggered without
a logical date (Airflow 3's default for a manual trigger) has no data interval at all: it answers
as of the time it was triggered for (`run_after`) and stands for the whole present, not a slice.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Context

from ctwatch.timeutil import parse_utc


def run_as_of(context: Context) -> datetime:
    """The end of the run's data interval, or the time a run without one was triggered for."""
    end = context.get("data_interval_end")
    if end is not None:
        return end
    run_after: datetime = context["dag_run"].run_after
    return run_after


def run_interval(context: Context) -> tuple[datetime, datetime] | None:
    """The run's data interval; None for a run triggered without a logical date."""
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    return (start, end) if start is not None and end is not None else None


def reports_from(context: Context) -> datetime | None:
    """The run conf's `reports_from`: a backfill's runs before it write no reports and publish no
    dashboard snapshot (each would only be overwritten by the next run's)."""
    value = (context["dag_run"].conf or {}).get("reports_from")
    return parse_utc(str(value)) if value else None
