"""The daily lists: CCADB AllCertificateRecords, Mozilla's revoked intermediates, OneCRL and the
CRLSet, fetched live or imported from an archive of dated CCADB reports."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

from ctwatch.evidence.ccadb import CcadbReport
from ctwatch.evidence.revocation import Snapshot, SourceName, StampKind, observation_stamp
from ctwatch.revocation.config import SourceLocations
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


class _ListFetch(Protocol):
    def __call__(
        self, client: HttpClient, url: str, *, observed_at: datetime, stamp_kind: StampKind
    ) -> CcadbReport | Snapshot: ...


def ingest_daily_lists(
    warehouse_file: Path, locations: SourceLocations, *, as_of: datetime | None = None
) -> IngestSummary:
    """CCADB AllCertificateRecords, Mozilla's revoked intermediates, OneCRL and the CRLSet."""
    lists: tuple[tuple[SourceName, str, _ListFetch], ...] = (
        (SourceName.CCADB, locations.ccadb_all_records_url, ccadb.fetch_all_records),
        (SourceName.MOZILLA_REVOKED, locations.mozilla_revoked_url, ccadb.fetch_mozilla_revoked),
        (SourceName.ONECRL, locations.onecrl_url, onecrl.fetch_records),
        (SourceName.CRLSET, locations.crlset_url, crlset.fetch_crlset),
    )
    client, sent_as_of = source_client(locations, as_of)
    fetched: list[FetchedSnapshot] = []
    failures: list[FailedFetch] = []
    try:
        for source, url, fetch in lists:
            observed_at, stamp_kind = observation_stamp(sent_as_of)
            try:
                answer = fetch(client, url, observed_at=observed_at, stamp_kind=stamp_kind)
            except FetchError as exc:
                failures.append((str(source), url, str(exc), observed_at))
                continue
            fetched.append(with_records(answer))
    finally:
        client.close()
    return store_snapshots(warehouse_file, fetched, failures)


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
