"""CCADB reports: AllCertificateRecords (owner, parent, trust bits, store and revocation status),
Mozilla's PublicIntermediateCertsRevokedWithPEMCSV (revocation date and reason), and archived
dated snapshots of them.

The parsers are driven by the header (columns by name), so the V5 report and older variants (e.g.
the ccadb-utils sample with "Full CRL Issued By This CA") both parse; the header line is kept
exactly as served. AllCertificateRecords has a revocation *status* but no date: only a series of
snapshots, each stamped, shows when a status changed. Mozilla's report has a date-only
`Date of Revocation` (00:00 UTC).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from ctwatch.evidence.ccadb import CcadbRecord, CcadbReport
from ctwatch.evidence.revocation import (
    RecordError,
    Sighting,
    SightingStatus,
    Snapshot,
    SourceName,
    StampKind,
    reason_name,
)
from ctwatch.sources.http import BodyError, HttpClient

OBSERVER = "ccadb"
MOZILLA_OBSERVER = "ccadb"  # Mozilla's report is served by CCADB from CA-entered data
ALL_RECORDS_REQUIRED = ("CA Owner", "SHA-256 Fingerprint", "Certificate Record Type", "Revocation Status")
MOZILLA_REVOKED_REQUIRED = ("SHA-256 Fingerprint", "Revocation Status", "Date of Revocation")
_SHA256 = re.compile(r"[0-9A-Fa-f]{64}")
_ARCHIVE_NAME = re.compile(r"(\d{4}-\d{2}-\d{2}).*\.csv")
_REASON_CODE = re.compile(r"\((\d+)\)|^(\d+)$")


class ReportFormatError(ValueError):
    """The bytes are not the report asked for (missing columns, not CSV)."""


def _rows(body: bytes, required: tuple[str, ...]) -> tuple[str, list[str], Iterator[list[str]]]:
    text = body.decode("utf-8-sig")
    raw_header = text.split("\n", 1)[0].rstrip("\r")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ReportFormatError("empty report") from exc
    missing = [name for name in required if name not in header]
    if missing:
        raise ReportFormatError(f"columns missing: {missing}")
    return raw_header, header, reader


def _text(row: dict[str, str], *names: str) -> str | None:
    for name in names:
        value = row.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def _date(value: str | None) -> date | None:
    """'2023-03-14', '2023.03.14' (AllCertificateRecords) or '2020 Jun 09' (Mozilla's reports)."""
    if value is None:
        return None
    if value[:4].isdigit() and value[4:5] == " ":
        return datetime.strptime(value[:11], "%Y %b %d").date()
    return date.fromisoformat(value.replace(".", "-").replace("/", "-")[:10])


def _sha256(value: str | None, column: str) -> str | None:
    if value is None:
        return None
    if not _SHA256.fullmatch(value):
        raise ValueError(f"{column} {value!r} is not a SHA-256 fingerprint")
    return value.lower()


def _urls(value: str | None) -> tuple[str, ...]:
    """A JSON array of URLs (V5) or a single URL (older reports)."""
    if value is None:
        return ()
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except RecursionError as exc:
            raise ValueError("CRL URL list is nested too deep") from exc
        if not isinstance(parsed, list):
            raise ValueError("CRL URL list is not a JSON array")
        return tuple(str(item) for item in parsed if str(item).strip())
    return (value,)


def _bool(value: str | None) -> bool | None:
    return None if value is None else value.strip().lower() == "true"


def _record(row: dict[str, str]) -> CcadbRecord:
    der_sha256 = _sha256(_text(row, "SHA-256 Fingerprint"), "SHA-256 Fingerprint")
    if der_sha256 is None:
        raise ValueError("SHA-256 Fingerprint is empty")
    return CcadbRecord(
        der_sha256=der_sha256,
        salesforce_record_id=_text(row, "Salesforce Record ID"),
        certificate_name=_text(row, "Certificate Name"),
        ca_owner=_text(row, "CA Owner"),
        subordinate_ca_owner=_text(row, "Subordinate CA Owner"),
        parent_der_sha256=_sha256(_text(row, "Parent SHA-256 Fingerprint"), "Parent SHA-256 Fingerprint"),
        parent_salesforce_record_id=_text(row, "Parent Salesforce Record ID"),
        record_type=_text(row, "Certificate Record Type"),
        revocation_status=row.get("Revocation Status", "").strip(),
        apple_status=_text(row, "Apple Status"),
        chrome_status=_text(row, "Chrome Status"),
        microsoft_status=_text(row, "Microsoft Status"),
        mozilla_status=_text(row, "Mozilla Status"),
        root_status=_text(row, "Status of Root Cert"),
        trust_bits_for_root=_text(row, "Trust Bits for Root Cert"),
        derived_trust_bits=_text(row, "Derived Trust Bits"),
        technically_constrained=_bool(_text(row, "Technically Constrained")),
        valid_from=_date(_text(row, "Valid From (GMT)")),
        valid_to=_date(_text(row, "Valid To (GMT)")),
        full_crl_urls=_urls(_text(row, "JSON Array of All Full CRL URLs", "Full CRL Issued By This CA")),
        partitioned_crl_urls=_urls(_text(row, "JSON Array of Partitioned CRLs")),
    )


def _status_sighting(record: CcadbRecord, row_number: int) -> Sighting | None:
    """'Revoked' and 'Not Revoked' are statements about the certificate itself; 'Parent Cert
    Revoked' and the roots' empty status are kept in the records only."""
    status = {"Revoked": SightingStatus.REVOKED, "Not Revoked": SightingStatus.NOT_REVOKED}.get(
        record.revocation_status or ""
    )
    if status is None:
        return None
    return Sighting(
        status=status,
        der_sha256=record.der_sha256,
        record_ref=record.salesforce_record_id or f"row {row_number}",
        detail={"revocation_status": record.revocation_status, "ca_owner": record.ca_owner},
    )


def parse_all_records(
    body: bytes, *, location: str, observed_at: datetime, stamp_kind: StampKind
) -> CcadbReport:
    """Parse an AllCertificateRecords CSV. A row that does not parse is a RecordError; a body that is
    not the report at all is a snapshot with one error and no rows."""
    records: list[CcadbRecord] = []
    sightings: list[Sighting] = []
    errors: list[RecordError] = []
    raw_header: str | None = None
    try:
        raw_header, header, rows = _rows(body, ALL_RECORDS_REQUIRED)
        for row_number, values in enumerate(rows, start=2):
            try:
                if len(values) != len(header):
                    raise ValueError(f"{len(values)} fields, header has {len(header)}")
                record = _record(dict(zip(header, values, strict=True)))
            except ValueError as exc:
                errors.append(RecordError(f"row {row_number}", str(exc)))
                continue
            records.append(record)
            sighting = _status_sighting(record, row_number)
            if sighting is not None:
                sightings.append(sighting)
    except (ReportFormatError, UnicodeDecodeError, csv.Error) as exc:
        errors.append(RecordError("report", f"not an AllCertificateRecords report: {exc}"))
    # lists_all_revoked False: absent from CCADB means "not disclosed", not "not revoked"
    snapshot = Snapshot.of_body(
        body, SourceName.CCADB, OBSERVER, observed_at=observed_at, stamp_kind=stamp_kind,
        location=location, lists_all_revoked=False, sightings=sightings, errors=errors, raw_header=raw_header,
    )  # fmt: skip
    return CcadbReport(snapshot=snapshot, records=tuple(records))


def _reason(text: str | None) -> str | None:
    """'(1) keyCompromise', 'keyCompromise' or '1' -> 'keyCompromise'."""
    if text is None:
        return None
    match = _REASON_CODE.search(text.strip())
    if match is None:
        return text.strip()
    return reason_name(int(match.group(1) or match.group(2)))


def parse_mozilla_revoked(
    body: bytes, *, location: str, observed_at: datetime, stamp_kind: StampKind
) -> Snapshot:
    """Parse PublicIntermediateCertsRevokedWithPEMCSV: date-only revocation dates mean 00:00 UTC."""
    sightings: list[Sighting] = []
    errors: list[RecordError] = []
    raw_header: str | None = None
    try:
        raw_header, header, rows = _rows(body, MOZILLA_REVOKED_REQUIRED)
        for row_number, values in enumerate(rows, start=2):
            try:
                if len(values) != len(header):
                    raise ValueError(f"{len(values)} fields, header has {len(header)}")
                row = dict(zip(header, values, strict=True))
                der_sha256 = _sha256(_text(row, "SHA-256 Fingerprint"), "SHA-256 Fingerprint")
                if der_sha256 is None:
                    raise ValueError("SHA-256 Fingerprint is empty")
                revoked_on = _date(_text(row, "Date of Revocation"))
                reason = _reason(_text(row, "RFC 5280 Revocation Reason Code"))
            except ValueError as exc:
                errors.append(RecordError(f"row {row_number}", str(exc)))
                continue
            sightings.append(
                Sighting(
                    status=SightingStatus.REVOKED,
                    der_sha256=der_sha256,
                    revoked_at_claimed=(
                        datetime(revoked_on.year, revoked_on.month, revoked_on.day, tzinfo=UTC)
                        if revoked_on
                        else None
                    ),
                    reason=reason,
                    record_ref=f"row {row_number}",
                    detail={
                        key: value
                        for key, value in {
                            "ca_owner": _text(row, "CA Owner"),
                            "revocation_status": _text(row, "Revocation Status"),
                            "onecrl_status": _text(row, "OneCRL Status"),
                            "date_precision": "day",
                        }.items()
                        if value
                    },
                )
            )
    except (ReportFormatError, UnicodeDecodeError, csv.Error) as exc:
        errors.append(RecordError("report", f"not a revoked-intermediates report: {exc}"))
    return Snapshot.of_body(
        body, SourceName.MOZILLA_REVOKED, MOZILLA_OBSERVER, observed_at=observed_at, stamp_kind=stamp_kind,
        location=location, lists_all_revoked=True, sightings=sightings, errors=errors, raw_header=raw_header,
    )  # fmt: skip


def _require_csv(body: bytes) -> bytes:
    if not body.strip():
        raise BodyError("empty report")
    return body


def fetch_all_records(
    client: HttpClient, url: str, *, observed_at: datetime, stamp_kind: StampKind
) -> CcadbReport:
    body = client.get(url, _require_csv)
    return parse_all_records(body, location=url, observed_at=observed_at, stamp_kind=stamp_kind)


def fetch_mozilla_revoked(
    client: HttpClient, url: str, *, observed_at: datetime, stamp_kind: StampKind
) -> Snapshot:
    body = client.get(url, _require_csv)
    return parse_mozilla_revoked(body, location=url, observed_at=observed_at, stamp_kind=stamp_kind)


def archived_snapshots(folder: Path) -> Iterator[CcadbReport | Snapshot | RecordError]:
    """Dated snapshots from a folder of `YYYY-MM-DD*.csv` files (e.g. a git-scraped CCADB mirror),
    oldest first, each stamped with its date (00:00 UTC, stamp kind 'archive'). The report kind is
    told by the header; a file that is neither report becomes a RecordError."""
    dated: list[tuple[datetime, Path]] = []
    for path in folder.iterdir():
        match = _ARCHIVE_NAME.fullmatch(path.name)
        if match is None or not path.is_file():
            continue
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            yield RecordError(str(path), "file name date is not a calendar date")
            continue
        dated.append((datetime(day.year, day.month, day.day, tzinfo=UTC), path))
    for observed_at, path in sorted(dated):
        body = path.read_bytes()
        header = body.split(b"\n", 1)[0]
        if b'"Date of Revocation"' in header or b"Date of Revocation" in header:
            yield parse_mozilla_revoked(
                body, location=str(path), observed_at=observed_at, stamp_kind=StampKind.ARCHIVE
            )
        elif b"Certificate Record Type" in header:
            yield parse_all_records(
                body, location=str(path), observed_at=observed_at, stamp_kind=StampKind.ARCHIVE
            )
        else:
            yield RecordError(
                str(path), "neither an AllCertificateRecords nor a revoked-intermediates report"
            )
