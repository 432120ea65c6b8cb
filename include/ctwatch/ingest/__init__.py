"""CT ingestion (issue 4): verified log ranges into the warehouse, exactly once, kill-safe.

plan (tree heads, coverage, follow start or backfill window by timestamp bisection) -> fetch and
verify ranges, reduced to what compliance keeps, staged to files -> load rows and coverage in one
transaction, then the rules over new CA certificates. Entry points: `ctwatch.ingest.jobs`
(one function per Airflow task, and `ingest_once`), `python -m ctwatch.ingest`.
"""

from ctwatch.ingest.bisect import WindowRange, bisect_window
from ctwatch.ingest.jobs import (
    IngestConfig,
    IngestSummary,
    discover_logs,
    fetch_range,
    ingest_once,
    load_ranges,
    plan_ranges,
)
from ctwatch.ingest.load import LoadSummary
from ctwatch.ingest.plan import PlannedRange, split_gaps, uncovered

__all__ = [
    "IngestConfig",
    "IngestSummary",
    "LoadSummary",
    "PlannedRange",
    "WindowRange",
    "bisect_window",
    "discover_logs",
    "fetch_range",
    "ingest_once",
    "load_ranges",
    "plan_ranges",
    "split_gaps",
    "uncovered",
]
