"""What every revocation source's unit of work shares: the HTTP client for the sources, and storing
what was fetched (snapshots, and the fetches that failed) with the observations rebuilt.

Network first, warehouse second: fetches run before the warehouse is opened, so a slow service
never holds the DuckDB file. Every fetch failure is recorded in revocation_source_errors and the
other sources still run. Stamps: live fetch time, or the as-of the request carried when the
sources are a simulator (`SourceLocations.simulated`), never a DAG's logical date for a live fetch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from ctwatch import warehouse
from ctwatch.evidence.ccadb import CcadbRecord, CcadbReport
from ctwatch.evidence.health import SourceCheck
from ctwatch.evidence.revocation import Snapshot
from ctwatch.revocation.config import Source, SourceLocations
from ctwatch.sources.http import HttpClient
from ctwatch.warehouse import observations, source_health

log = logging.getLogger(__name__)

# A snapshot with the CCADB records it came with (none but for AllCertificateRecords).
FetchedSnapshot = tuple[Snapshot, Sequence[CcadbRecord]]
# A fetch that gave no snapshot: source, location, error, when.
FailedFetch = tuple[str, str, str, datetime]


@dataclass(slots=True)
class IngestSummary:
    snapshots: int = 0
    sightings: int = 0
    record_errors: int = 0
    fetch_errors: list[str] = field(default_factory=list)
    observations: dict[str, int] = field(default_factory=dict)  # per source, after the refresh


def with_records(fetched: CcadbReport | Snapshot) -> FetchedSnapshot:
    return (fetched.snapshot, fetched.records) if isinstance(fetched, CcadbReport) else (fetched, ())


def record_fetch_error(
    con: duckdb.DuckDBPyConnection, source: str, location: str, error: str, at: datetime
) -> None:
    """Record what could not be fetched, and say so in the task log (the next run tries again)."""
    log.warning("%s: could not fetch %s: %s (recorded; the next run tries again)", source, location, error)
    observations.record_fetch_error(con, source, location, error, at)


def source_client(
    locations: SourceLocations, source: Source, as_of: datetime | None
) -> tuple[HttpClient, datetime | None]:
    """The HTTP client for `source`, with its politeness, and the as-of to send: only to a simulator."""
    sent_as_of = as_of if locations.simulated else None
    return HttpClient(locations.endpoint(source).politeness, as_of=sent_as_of), sent_as_of


def store_snapshots(
    warehouse_file: Path,
    snapshots: Sequence[FetchedSnapshot],
    failures: Sequence[FailedFetch] = (),
    checks: Sequence[SourceCheck] | None = None,
) -> IngestSummary:
    """Store the snapshots, the failed fetches and the source checks (default: a success per
    snapshot, a failure per failed fetch), then rebuild the observations of every source that
    answered."""
    if checks is None:
        checks = [SourceCheck(str(s.source), s.location, s.observed_at) for s, _ in snapshots]
        checks += [SourceCheck(source, location, at, error) for source, location, error, at in failures]
    summary = IngestSummary()
    con = warehouse.connect(warehouse_file)
    try:
        for snapshot, records in snapshots:
            stored = observations.store_snapshot(con, snapshot, ccadb_records=records)
            summary.snapshots += int(stored.new)
            summary.sightings += stored.sightings
            summary.record_errors += stored.errors
        for source, location, error, at in failures:
            record_fetch_error(con, source, location, error, at)
            summary.fetch_errors.append(f"{source}: {error}")
        source_health.record_checks(con, checks)
        for source in sorted({str(s.source) for s, _ in snapshots}):
            summary.observations[source] = observations.refresh_observations(con, source)
    finally:
        con.close()
    return summary
