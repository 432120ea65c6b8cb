"""CT ingestion: verified log ranges into the warehouse, exactly once, kill-safe.

discover (`discover`: log list, verified tree heads, a backfill window by timestamp bisection) ->
plan (`plan`: follow starts, coverage gaps cut into ranges) -> fetch and verify ranges, reduced to
what compliance keeps, staged to files (`fetch`) -> load rows and coverage in one transaction, then
the rules over new CA certificates (`load`). One function per Airflow task of `ingest_ct_logs`;
`run.ingest_once` runs them all in one process, as `ctwatch ct ingest` does.

`certificate_files` imports certificates from PEM/DER files instead (the `import` command).

A head or range refused on the way (bad signature, no consistency with the stored head, a range
that does not prove, a log that cannot be read) becomes a ct_verification_failures row: discovery's
and consistency's in the plan transaction, a range's in the load (see `ctwatch.ingest.evidence`).
"""

from ctwatch.ingest.bisect import WindowRange, bisect_window
from ctwatch.ingest.config import START_AT_HEAD, START_AT_ORIGIN, IngestConfig
from ctwatch.ingest.discover import discover_logs
from ctwatch.ingest.fetch import fetch_range
from ctwatch.ingest.load import LoadSummary, load_ranges
from ctwatch.ingest.plan import plan_ranges
from ctwatch.ingest.ranges import PlannedRange, split_gaps, uncovered
from ctwatch.ingest.run import IngestSummary, ingest_once

__all__ = [
    "START_AT_HEAD",
    "START_AT_ORIGIN",
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
