"""The daily lists: CCADB AllCertificateRecords, Mozilla's revoked intermediates, OneCRL and the
CRLSet, fetched live or imported from an archive of dated CCADB reports."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, Protocol

from ctwatch import warehouse
from ctwatch.evidence.ccadb import CcadbReport
from ctwatch.evidence.revocation import Snapshot, SourceName, StampKind, observation_stamp
from ctwatch.revocation.config import Source, SourceLocations
from ctwatch.revocation.snapshots import (
    FailedFetch,
    FetchedSnapshot,
    IngestSummary,
    source_client,
    store_snapshots,
    with_records,
)
from ctwatch.sources import ccadb, crlset, onecrl
from ctwatch.sources.http import FetchError, HttpClient
from ctwatch.timeutil import holds_midnight_utc, iso_z, utc_or_none


class _ListFetch(Protocol):
    def __call__(
        self, client: HttpClient, url: str, *, observed_at: datetime, stamp_kind: StampKind
    ) -> CcadbReport | Snapshot: ...


DAILY_LISTS: Final = (Source.CCADB, Source.MOZILLA_REVOKED, Source.ONECRL, Source.CRLSET)
_FETCHERS: Final[Mapping[Source, _ListFetch]] = {
    Source.CCADB: ccadb.fetch_all_records,
    Source.MOZILLA_REVOKED: ccadb.fetch_mozilla_revoked,
    Source.ONECRL: onecrl.fetch_records,
    Source.CRLSET: crlset.fetch_crlset,
}


DAILY: Final = timedelta(days=1)


def daily_list_due(
    warehouse_file: Path, source: Source, as_of: datetime, interval: tuple[datetime, datetime] | None
) -> str | None:
    """Why a run as of `as_of` over `interval` fetches `source`, or None when it need not: a run
    whose interval holds 00:00 UTC, a run without an interval, and any run while the warehouse has
    no snapshot of the list from the last day (a first run, a failed fetch) fetch it."""
    if interval is None:
        return "a run without a data interval refreshes every list"
    if holds_midnight_utc(*interval):
        return "the run's interval holds 00:00 UTC"
    con = warehouse.connect(warehouse_file)
    try:
        row = con.execute(
            warehouse.load_sql("sources/last_snapshot"), {"source": str(source), "as_of": as_of}
        ).fetchone()
    finally:
        con.close()
    last = utc_or_none(row[0]) if row else None
    if last is None:
        return "the warehouse has no snapshot of it yet"
    if as_of - last >= DAILY:
        return f"its last snapshot is from {iso_z(last)}, a day or more before {iso_z(as_of)}"
    return None


def ingest_daily_list(
    warehouse_file: Path, locations: SourceLocations, source: Source, *, as_of: datetime | None = None
) -> IngestSummary:
    """Fetch and store one daily list: CCADB AllCertificateRecords, Mozilla's revoked
    intermediates, OneCRL or the CRLSet. A failed fetch is recorded and listed in `fetch_errors`."""
    client, sent_as_of = source_client(locations, source, as_of)
    url = locations.url(source)
    observed_at, stamp_kind = observation_stamp(sent_as_of)
    try:
        answer = _FETCHERS[source](client, url, observed_at=observed_at, stamp_kind=stamp_kind)
    except FetchError as exc:
        return store_snapshots(warehouse_file, [], [(str(source), url, str(exc), observed_at)])
    finally:
        client.close()
    return store_snapshots(warehouse_file, [with_records(answer)])


def ingest_daily_lists(
    warehouse_file: Path, locations: SourceLocations, *, as_of: datetime | None = None
) -> IngestSummary:
    """Every enabled daily list in one call, in this process; the DAG runs one task per list."""
    total = IngestSummary()
    for source in DAILY_LISTS:
        if not locations.endpoint(source).enabled:
            continue
        summary = ingest_daily_list(warehouse_file, locations, source, as_of=as_of)
        total.snapshots += summary.snapshots
        total.sightings += summary.sightings
        total.record_errors += summary.record_errors
        total.fetch_errors += summary.fetch_errors
        total.observations.update(summary.observations)
    return total


def import_ccadb_archive(warehouse_file: Path, folder: Path) -> IngestSummary:
    """Archived dated CCADB snapshots (`YYYY-MM-DD*.csv`), so backfills get dated bounds."""
    fetched: list[FetchedSnapshot] = []
    failures: list[FailedFetch] = []
    for item in ccadb.archived_snapshots(folder):
        if isinstance(item, CcadbReport | Snapshot):
            fetched.append(with_records(item))
        else:
            failures.append((str(SourceName.CCADB), item.record_ref, item.error, observation_stamp(None)[0]))
    return store_snapshots(warehouse_file, fetched, failures)
