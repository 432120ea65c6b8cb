"""OCSP for the certificates with an open rule finding: each asks the responder it names, and the
checked answers are stored as one-sighting snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from ctwatch import warehouse
from ctwatch.evidence.health import SourceCheck
from ctwatch.evidence.revocation import observation_stamp
from ctwatch.revocation.config import Source, SourceLocations
from ctwatch.revocation.snapshots import FetchedSnapshot, IngestSummary, source_client, store_snapshots
from ctwatch.sources import ocsp


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
        rows = con.execute(warehouse.load_sql("sources/ocsp_targets")).fetchall()
    finally:
        con.close()
    client, sent_as_of = source_client(locations, Source.OCSP, as_of)
    fetched: list[FetchedSnapshot] = []
    checks: list[SourceCheck] = []
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
            checks.append(SourceCheck(str(Source.OCSP), ocsp_urls[0], observed_at, answer.error))
    finally:
        client.close()
    summary = store_snapshots(warehouse_file, fetched, checks=checks)
    summary.fetch_errors += [f"{c.target}: {c.failure}" for c in checks if not c.ok]
    return summary
