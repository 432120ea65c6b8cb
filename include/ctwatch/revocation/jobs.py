"""Units of work for the revocation DAGs and the command line: one call per Airflow task.

Network first, warehouse second: fetches run before the warehouse is opened, so a slow service
never holds the DuckDB file. Every fetch failure is recorded in revocation_source_errors and the
other sources still run. Stamps: live fetch time, or the as-of the request carried when the
sources are a simulator (`SourceLocations.simulated`), never a DAG's logical date for a live fetch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

import duckdb
from cryptography import x509
from cryptography.exceptions import InvalidSignature

from ctwatch import warehouse
from ctwatch.evidence.bugzilla import Bug, BugComment
from ctwatch.evidence.ccadb import CcadbRecord, CcadbReport
from ctwatch.evidence.revocation import RecordError, Snapshot, SourceName, StampKind, observation_stamp
from ctwatch.revocation.config import SourceLocations
from ctwatch.revocation.disagreements import DisagreementsStored, store_disagreements
from ctwatch.sources import bugzilla, ccadb, crlset, crtsh, ocsp, onecrl
from ctwatch.sources.http import FetchError, HttpClient, Politeness
from ctwatch.warehouse import observations
from ctwatch.warehouse.crtsh_ids import CrtshCertificateId, is_crtsh_id, store_crtsh_ids
from ctwatch.x509 import CertError, ParsedCert, analyse_bytes

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestSummary:
    snapshots: int = 0
    sightings: int = 0
    record_errors: int = 0
    fetch_errors: list[str] = field(default_factory=list)
    observations: dict[str, int] = field(default_factory=dict)  # per source, after the refresh


def _record_fetch_error(
    con: duckdb.DuckDBPyConnection, source: str, location: str, error: str, at: datetime
) -> None:
    """Record what could not be fetched, and say so in the task log (the next run tries again)."""
    log.warning("%s: could not fetch %s: %s (recorded; the next run tries again)", source, location, error)
    observations.record_fetch_error(con, source, location, error, at)


def _client(locations: SourceLocations, as_of: datetime | None) -> tuple[HttpClient, datetime | None]:
    """The HTTP client, and the as-of to send: only to a simulator."""
    sent_as_of = as_of if locations.simulated else None
    politeness = Politeness(requests_per_second=locations.requests_per_second, timeout_s=locations.timeout_s)
    return HttpClient(politeness, as_of=sent_as_of), sent_as_of


def _store(
    warehouse_file: Path,
    snapshots: Sequence[tuple[Snapshot, Sequence[CcadbRecord]]],
    failures: Sequence[tuple[str, str, str, datetime]],
    summary: IngestSummary,
) -> IngestSummary:
    con = warehouse.connect(warehouse_file)
    try:
        for snapshot, records in snapshots:
            stored = observations.store_snapshot(con, snapshot, ccadb_records=records)
            summary.snapshots += int(stored.new)
            summary.sightings += stored.sightings
            summary.record_errors += stored.errors
        for source, location, error, at in failures:
            _record_fetch_error(con, source, location, error, at)
            summary.fetch_errors.append(f"{source}: {error}")
        for source in sorted({str(s.source) for s, _ in snapshots}):
            summary.observations[source] = observations.refresh_observations(con, source)
    finally:
        con.close()
    return summary


def ingest_daily_lists(
    warehouse_file: Path, locations: SourceLocations, *, as_of: datetime | None = None
) -> IngestSummary:
    """CCADB AllCertificateRecords, Mozilla's revoked intermediates, OneCRL and the CRLSet."""
    client, sent_as_of = _client(locations, as_of)
    fetched: list[tuple[Snapshot, Sequence[CcadbRecord]]] = []
    failures: list[tuple[str, str, str, datetime]] = []

    def run(source: SourceName, url: str, fetch: Callable[[datetime, StampKind], object]) -> None:
        observed_at, stamp_kind = observation_stamp(sent_as_of)
        try:
            result = fetch(observed_at, stamp_kind)
        except FetchError as exc:
            failures.append((str(source), url, str(exc), observed_at))
            return
        if isinstance(result, CcadbReport):
            fetched.append((result.snapshot, result.records))
        elif isinstance(result, Snapshot):
            fetched.append((result, ()))

    try:
        run(
            SourceName.CCADB,
            locations.ccadb_all_records_url,
            lambda at, kind: ccadb.fetch_all_records(
                client, locations.ccadb_all_records_url, observed_at=at, stamp_kind=kind
            ),
        )
        run(
            SourceName.MOZILLA_REVOKED,
            locations.mozilla_revoked_url,
            lambda at, kind: ccadb.fetch_mozilla_revoked(
                client, locations.mozilla_revoked_url, observed_at=at, stamp_kind=kind
            ),
        )
        run(
            SourceName.ONECRL,
            locations.onecrl_url,
            lambda at, kind: onecrl.fetch_records(
                client, locations.onecrl_url, observed_at=at, stamp_kind=kind
            ),
        )
        run(
            SourceName.CRLSET,
            locations.crlset_url,
            lambda at, kind: crlset.fetch_crlset(
                client, locations.crlset_url, observed_at=at, stamp_kind=kind
            ),
        )
    finally:
        client.close()
    return _store(warehouse_file, fetched, failures, IngestSummary())


def import_ccadb_archive(warehouse_file: Path, folder: Path) -> IngestSummary:
    """Archived dated CCADB snapshots (`YYYY-MM-DD*.csv`), so backfills get dated bounds."""
    fetched: list[tuple[Snapshot, Sequence[CcadbRecord]]] = []
    failures: list[tuple[str, str, str, datetime]] = []
    for item in ccadb.archived_snapshots(folder):
        if isinstance(item, CcadbReport):
            fetched.append((item.snapshot, item.records))
        elif isinstance(item, Snapshot):
            fetched.append((item, ()))
        else:
            failures.append((str(SourceName.CCADB), item.record_ref, item.error, observation_stamp(None)[0]))
    return _store(warehouse_file, fetched, failures, IngestSummary())


def _issuer_of(cert: x509.Certificate, candidates: Sequence[bytes]) -> x509.Certificate | None:
    for der in candidates:
        issuer = x509.load_der_x509_certificate(der)
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            continue  # not this issuer: try the next candidate
        return issuer
    return None


def query_ocsp_for_open_findings(
    warehouse_file: Path, locations: SourceLocations, *, as_of: datetime | None = None
) -> IngestSummary:
    """Ask each responder named by a certificate with an open rule finding (POST, SHA-1 CertID;
    on failure GET with a SHA-256 CertID) and store the checked answers."""
    con = warehouse.connect(warehouse_file)
    try:
        rows = con.execute(
            "SELECT c.der, c.ocsp_urls, list(i.der) FROM certificates AS c "
            "JOIN certificates AS i ON i.subject_der = c.issuer_der AND i.is_ca AND i.der IS NOT NULL "
            "WHERE c.der IS NOT NULL AND len(c.ocsp_urls) > 0 AND c.der_sha256 IN "
            "(SELECT der_sha256 FROM rule_findings WHERE resolved_as_of IS NULL) GROUP BY c.der, c.ocsp_urls"
        ).fetchall()
    finally:
        con.close()
    client, sent_as_of = _client(locations, as_of)
    fetched: list[tuple[Snapshot, Sequence[CcadbRecord]]] = []
    try:
        for cert_der, ocsp_urls, issuer_ders in rows:
            cert = x509.load_der_x509_certificate(cert_der)
            issuer = _issuer_of(cert, issuer_ders)
            if issuer is None:
                continue
            url = locations.rewrite(ocsp_urls[0])
            answer = ocsp.query(client, cert, issuer, url)
            if answer.error is not None:
                answer = ocsp.query(client, cert, issuer, url, method=ocsp.Method.GET, cert_id_hash="sha256")
            observed_at, stamp_kind = observation_stamp(sent_as_of)
            fetched.append((ocsp.answer_snapshot(answer, observed_at=observed_at, stamp_kind=stamp_kind), ()))
    finally:
        client.close()
    return _store(warehouse_file, fetched, (), IngestSummary())


@dataclass(frozen=True, slots=True)
class CrtshSummary:
    rows: int
    queries: int
    truncated: tuple[str, ...]
    new_certificates: int
    errors: int


def ingest_crtsh(
    warehouse_file: Path,
    locations: SourceLocations,
    identities: Sequence[str],
    *,
    min_not_before: date | None = None,
    as_of: datetime | None = None,
    max_downloads: int = 500,
) -> CrtshSummary:
    """Identity searches on crt.sh; certificates not stored yet are downloaded (`?d=`) and stored
    with source 'crtsh'. Every crt.sh ID returned is recorded (with its certificate's SHA-256 when
    downloaded), so a bug naming it can be resolved. A pattern still capped after splitting is
    recorded as an error."""
    client, _ = _client(locations, as_of)
    rows: dict[int, crtsh.CrtshRow] = {}
    searched_by: dict[int, str] = {}  # crt.sh id -> URL of the first search that returned it
    downloaded: dict[int, str] = {}  # crt.sh id -> SHA-256 of the certificate it served
    queries = 0
    truncated: list[str] = []
    errors: list[RecordError] = []
    try:
        for identity in identities:
            try:
                result = crtsh.search_identity(
                    client,
                    locations.crtsh_url,
                    identity,
                    min_not_before=min_not_before,
                    result_limit=locations.crtsh_result_limit,
                )
            except FetchError as exc:
                errors.append(RecordError(identity, str(exc)))
                continue
            rows.update(result.rows)
            search_url = f"{locations.crtsh_url}?{urlencode({'identity': identity})}"
            for crtsh_id in result.rows:
                searched_by.setdefault(crtsh_id, search_url)
            queries += result.queries
            truncated.extend(result.truncated)
            errors.extend(result.errors)
        errors.extend(RecordError(p, "still more than the result limit after splitting") for p in truncated)
        con = warehouse.connect(warehouse_file)
        try:
            # crt.sh JSON has no SHA-256: (serial, notBefore) tells a stored certificate apart
            known = set(con.execute("SELECT serial_hex, not_before FROM certificates").fetchall())
        finally:
            con.close()
        parsed: list[ParsedCert] = []
        failed: list[tuple[CertError, str]] = []
        for row in sorted(rows.values(), key=lambda r: r.crtsh_id):
            if (row.serial_hex, row.not_before) in known or len(parsed) + len(failed) >= max_downloads:
                continue
            try:
                pem = crtsh.download(client, locations.crtsh_url, str(row.crtsh_id))
            except FetchError as exc:
                errors.append(RecordError(str(row.crtsh_id), str(exc)))
                continue
            served: list[ParsedCert] = []
            for item in analyse_bytes(pem or b""):
                if isinstance(item, CertError):
                    failed.append((item, f"crtsh:{row.crtsh_id}"))
                else:
                    served.append(item)
            parsed.extend(served)
            if len(served) == 1:
                downloaded[row.crtsh_id] = served[0].der_sha256
    finally:
        client.close()
    crtsh_ids = [
        CrtshCertificateId(
            crtsh_id=row.crtsh_id,
            der_sha256=downloaded.get(row.crtsh_id),
            serial_hex=row.serial_hex,
            not_before=row.not_before,
            issuer_name=row.issuer_name,
            location=searched_by[row.crtsh_id],
        )
        for row in rows.values()
        if is_crtsh_id(str(row.crtsh_id))
    ]
    errors.extend(
        RecordError(searched_by[i], f"crt.sh id {i} out of range") for i in rows if not is_crtsh_id(str(i))
    )
    con = warehouse.connect(warehouse_file)
    try:
        new = warehouse.store_certificates(con, parsed, source="crtsh")
        warehouse.record_parse_errors(con, failed)
        at = observation_stamp(as_of if locations.simulated else None)[0]
        store_crtsh_ids(con, crtsh_ids, observed_at=at)
        for error in errors:
            _record_fetch_error(con, str(SourceName.CRTSH), error.record_ref, error.error, at)
    finally:
        con.close()
    return CrtshSummary(len(rows), queries, tuple(truncated), new, len(errors) + len(failed))


def import_crtsh_csv(warehouse_file: Path, csv_file: Path, *, queried_at: datetime) -> IngestSummary:
    """The CSV output of sql/crtsh_ocsp_signing_ca.sql, stamped with when the query ran; its crt.sh
    IDs are recorded with their certificates' SHA-256 (a row without a usable ID is an error)."""
    snapshot = crtsh.parse_ocsp_signing_ca_csv(
        csv_file.read_bytes(), location=str(csv_file), observed_at=queried_at
    )
    crtsh_ids: list[CrtshCertificateId] = []
    id_errors: list[RecordError] = []
    for sighting in snapshot.sightings:
        ref = sighting.record_ref
        if ref is None or not is_crtsh_id(ref) or sighting.der_sha256 is None:
            id_errors.append(RecordError(f"sha256 {sighting.der_sha256}", f"no usable crt.sh id: {ref!r}"))
            continue
        crtsh_ids.append(
            CrtshCertificateId(
                crtsh_id=int(ref),
                der_sha256=sighting.der_sha256,
                serial_hex=None,
                not_before=None,
                issuer_name=None,
                location=str(csv_file),
            )
        )
    snapshot = replace(snapshot, errors=snapshot.errors + tuple(id_errors))
    summary = _store(warehouse_file, [(snapshot, ())], (), IngestSummary())
    con = warehouse.connect(warehouse_file)
    try:
        store_crtsh_ids(con, crtsh_ids, observed_at=queried_at)
    finally:
        con.close()
    return summary


@dataclass(frozen=True, slots=True)
class BugzillaSummary:
    new_bug_rows: int
    comment_fetches: int  # answered ones
    new_comments: int
    errors: int  # failed searches and comment fetches, malformed bugs and comments (all recorded)


@dataclass(frozen=True, slots=True)
class _CommentAnswer:
    bug_id: int
    comments: list[BugComment]
    errors: list[RecordError]
    fetched_at: datetime
    new_since: datetime | None
    location: str


def _needs_comments(
    bug: Bug, previous: observations.CommentFetch | None, linked_bug_ids: Collection[int]
) -> bool:
    """A revocation-delay bug or one a declared incident lists every run; another bug only to keep
    the comments of one fetched before (while it carried a tag) current when it changed: most
    CA-compliance bugs name an owner, so fetching every owner's bug would mean thousands of requests."""
    if bug.revocation_delay_tags or bug.bug_id in linked_bug_ids:
        return True
    if bug.ca_owner is None or previous is None or bug.last_change_time is None:
        return False
    return bug.last_change_time > previous.fetched_at


def ingest_bugzilla(
    warehouse_file: Path,
    locations: SourceLocations,
    *,
    as_of: datetime | None = None,
    linked_bug_ids: Collection[int] = (),
) -> BugzillaSummary:
    """CA-compliance bugs linked to CCADB owners, then the comments of those an incident may link
    (`_needs_comments`; `linked_bug_ids`: the bugs declared incidents list), each fetch asking only
    for comments newer than the newest one known."""
    client, sent_as_of = _client(locations, as_of)
    observed_at, _ = observation_stamp(sent_as_of)
    con = warehouse.connect(warehouse_file)
    try:
        owners = observations.ccadb_owner_names(con)
        fetched_before = observations.comment_fetches(con, observed_at)
    finally:
        con.close()
    answers: list[_CommentAnswer] = []
    failures: list[tuple[str, str, datetime]] = []  # location, error, when
    try:
        try:
            bugs, errors = bugzilla.search_bugs(
                client,
                locations.bugzilla_url,
                product=locations.bugzilla_product,
                component=locations.bugzilla_component,
                owner_names=owners,
            )
        except FetchError as exc:
            bugs, errors = [], [RecordError("search", str(exc))]
        for bug in bugs:
            previous = fetched_before.get(bug.bug_id)
            if not _needs_comments(bug, previous, linked_bug_ids):
                continue
            new_since = previous.newest_comment_at if previous is not None else None
            location = bugzilla.comments_url(locations.bugzilla_url, bug.bug_id)
            fetched_at, _ = observation_stamp(sent_as_of)
            try:
                comments, comment_errors = bugzilla.fetch_comments(
                    client, locations.bugzilla_url, bug.bug_id, new_since=new_since
                )
            except FetchError as exc:
                failures.append((location, str(exc), fetched_at))
                continue
            answers.append(
                _CommentAnswer(bug.bug_id, comments, comment_errors, fetched_at, new_since, location)
            )
    finally:
        client.close()
    con = warehouse.connect(warehouse_file)
    try:
        new = observations.store_bugs(con, bugs, observed_at=observed_at, location=locations.bugzilla_url)
        for error in errors:
            _record_fetch_error(con, "bugzilla", error.record_ref, error.error, observed_at)
        new_comments = 0
        for a in answers:
            new_comments += observations.store_bug_comments(
                con, a.bug_id, a.comments, a.errors, fetched_at=a.fetched_at, new_since=a.new_since,
                location=a.location,
            )  # fmt: skip
        for location, error_text, at in failures:
            _record_fetch_error(con, "bugzilla", location, error_text, at)
    finally:
        con.close()
    record_errors = len(errors) + sum(len(a.errors) for a in answers)
    return BugzillaSummary(new, len(answers), new_comments, record_errors + len(failures))


def evaluate_disagreements(warehouse_file: Path, as_of: datetime) -> DisagreementsStored:
    con = warehouse.connect(warehouse_file)
    try:
        return store_disagreements(con, as_of)
    finally:
        con.close()
