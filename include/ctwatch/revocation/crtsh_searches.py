"""crt.sh identity searches: the certificates crt.sh knows and the warehouse does not are downloaded
(`?d=`) and stored with source 'crtsh', and every crt.sh ID returned is recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

from ctwatch import warehouse
from ctwatch.evidence.health import SourceCheck
from ctwatch.evidence.revocation import RecordError, SourceName, observation_stamp
from ctwatch.revocation.config import Source, SourceLocations
from ctwatch.revocation.snapshots import record_fetch_error, source_client
from ctwatch.sources import crtsh
from ctwatch.sources.http import FetchError
from ctwatch.warehouse import source_health
from ctwatch.warehouse.crtsh_ids import CrtshCertificateId, is_crtsh_id, store_crtsh_ids
from ctwatch.x509 import CertError, ParsedCert, analyse_bytes


@dataclass(frozen=True, slots=True)
class CrtshSummary:
    rows: int
    queries: int
    truncated: tuple[str, ...]
    new_certificates: int
    errors: int
    unreachable: tuple[str, ...]  # "<search or download URL>: <why>" for each request crt.sh did not answer


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
    client, _ = source_client(locations, Source.CRTSH, as_of)
    rows: dict[int, crtsh.CrtshRow] = {}
    searched_by: dict[int, str] = {}  # crt.sh id -> URL of the first search that returned it
    downloaded: dict[int, str] = {}  # crt.sh id -> SHA-256 of the certificate it served
    queries = 0
    truncated: list[str] = []
    errors: list[RecordError] = []
    attempts: list[tuple[str, str | None]] = []  # (URL, why it failed or None): the source checks
    try:
        for identity in identities:
            search_url = f"{locations.url(Source.CRTSH)}?{urlencode({'identity': identity})}"
            try:
                result = crtsh.search_identity(
                    client,
                    locations.url(Source.CRTSH),
                    identity,
                    min_not_before=min_not_before,
                    result_limit=locations.crtsh_result_limit,
                )
            except FetchError as exc:
                errors.append(RecordError(identity, str(exc)))
                attempts.append((search_url, str(exc)))
                continue
            attempts.append((search_url, None))
            rows.update(result.rows)
            for crtsh_id in result.rows:
                searched_by.setdefault(crtsh_id, search_url)
            queries += result.queries
            truncated.extend(result.truncated)
            errors.extend(result.errors)
        errors.extend(RecordError(p, "still more than the result limit after splitting") for p in truncated)
        con = warehouse.connect(warehouse_file)
        try:
            # crt.sh JSON has no SHA-256: (serial, notBefore) tells a stored certificate apart
            known = set(con.execute(warehouse.load_sql("sources/certificate_serials")).fetchall())
        finally:
            con.close()
        parsed: list[ParsedCert] = []
        failed: list[tuple[CertError, str]] = []
        for row in sorted(rows.values(), key=lambda r: r.crtsh_id):
            if (row.serial_hex, row.not_before) in known or len(parsed) + len(failed) >= max_downloads:
                continue
            try:
                pem = crtsh.download(client, locations.url(Source.CRTSH), str(row.crtsh_id))
            except FetchError as exc:
                errors.append(RecordError(str(row.crtsh_id), str(exc)))
                attempts.append((f"{locations.url(Source.CRTSH)}?d={row.crtsh_id}", str(exc)))
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
            record_fetch_error(con, str(SourceName.CRTSH), error.record_ref, error.error, at)
        source_health.record_checks(
            con, [SourceCheck(str(Source.CRTSH), url, at, why) for url, why in attempts]
        )
    finally:
        con.close()
    unreachable = tuple(f"{url}: {why}" for url, why in attempts if why is not None)
    return CrtshSummary(len(rows), queries, tuple(truncated), new, len(errors) + len(failed), unreachable)
