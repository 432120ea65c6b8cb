"""Store analysed certificates and undecodable input; read certificates back for the rules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from ctwatch.warehouse._db import row_count, transaction
from ctwatch.warehouse.sqlfiles import load_sql
from ctwatch.x509.model import CertError, CertKind, ParsedCert

FETCH_BATCH_ROWS = 2048
# how far up a subject's own chain is walked; real Web PKI hierarchies are shallower
MAX_CHAIN_LEVELS = 6


def store_certificates(con: duckdb.DuckDBPyConnection, certs: Sequence[ParsedCert], source: str) -> int:
    """Insert the certificates not stored yet (by der_sha256); return how many were new.

    `source` says where they were first seen: 'ct:<log_id>:<index>', 'file:<path>', 'ccadb', 'crtsh'.
    One statement, so the batch is stored entirely or not at all.
    """
    if not certs:
        return 0
    columns: dict[str, object] = {
        "der_sha256": [c.der_sha256 for c in certs],
        "der": [c.der for c in certs],
        "subject_rfc4514": [c.subject_rfc4514 for c in certs],
        "subject_der": [c.subject_der for c in certs],
        "issuer_rfc4514": [c.issuer_rfc4514 for c in certs],
        "issuer_der": [c.issuer_der for c in certs],
        "serial_hex": [c.serial_hex for c in certs],
        "not_before": [c.not_before for c in certs],
        "not_after": [c.not_after for c in certs],
        "is_ca": [c.is_ca for c in certs],
        "path_length": [c.path_length for c in certs],
        "key_usage": [sorted(c.key_usage) for c in certs],
        "key_usage_present": [c.key_usage_present for c in certs],
        "eku_oids": [list(c.eku_oids) for c in certs],
        "eku_absent": [c.eku_absent for c in certs],
        "ocsp_nocheck": [c.ocsp_nocheck for c in certs],
        "name_constraints": [c.name_constraints for c in certs],
        "ski_hex": [c.ski_hex for c in certs],
        "aki_hex": [c.aki_hex for c in certs],
        "spki_sha256": [c.spki_sha256 for c in certs],
        "crl_urls": [list(c.crl_urls) for c in certs],
        "ocsp_urls": [list(c.ocsp_urls) for c in certs],
        "ca_issuers_urls": [list(c.ca_issuers_urls) for c in certs],
        "policy_oids": [list(c.policy_oids) for c in certs],
        "precert_poison": [c.precert_poison for c in certs],
        "self_issued": [c.self_issued for c in certs],
        "self_signed": [c.self_signed for c in certs],
        "kind": [c.kind.value for c in certs],
        "parser": [c.parser for c in certs],
        "parse_warnings": [list(c.warnings) for c in certs],
        "san_dns_names": [list(c.san_dns_names) for c in certs],
        "san_ip_addresses": [list(c.san_ip_addresses) for c in certs],
        "x509_version": [c.x509_version for c in certs],
        "first_seen_source": source,
    }
    return row_count(con.execute(load_sql("certificates/insert_new"), columns))


def record_parse_errors(con: duckdb.DuckDBPyConnection, errors: Sequence[tuple[CertError, str]]) -> int:
    """Record each (error, source) pair; return how many rows were new."""
    if not errors:
        return 0
    columns = {
        "input_sha256": [error.input_sha256 for error, _ in errors],
        "input_length": [error.input_length for error, _ in errors],
        "source": [source for _, source in errors],
        "error": [error.error for error, _ in errors],
    }
    return row_count(con.execute(load_sql("parse_errors/insert"), columns))


def certificates_for_rules(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[ParsedCert, bool]]:
    """Yield (certificate, is_cross_certificate) for every stored certificate that has its DER.

    Reads through its own cursor, so the caller may use `con` while iterating.
    """
    cursor = con.cursor()
    try:
        cursor.execute(load_sql("certificates/for_rules"))
        names = [column[0] for column in cursor.description or ()]
        while rows := cursor.fetchmany(FETCH_BATCH_ROWS):
            for row in rows:
                record = dict(zip(names, row, strict=True))
                yield _parsed_cert(record), bool(record["is_cross_certificate"])
    finally:
        cursor.close()


def mark_cross_certificates(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute `is_cross_certificate` for all certificates; return how many are now marked.

    A cross-certificate is a CA certificate whose issuer is not in its subject's own chain, judged
    among the CA certificates sharing one subject name and key. If one of them is self-issued (a
    root or a root's re-key), the subject's own chain is itself, so each of them from another issuer
    is a cross-certificate. Otherwise the originals are those with the earliest notBefore (all of
    them on a tie), and the own chain is their issuers and, upward, the issuers of the stored CA
    certificates named like those, up to `MAX_CHAIN_LEVELS` names above the subject. Re-issuances
    by the same issuer are therefore never cross-certificates.
    """
    with transaction(con):
        con.execute(load_sql("certificates/mark_cross"), {"max_chain_levels": MAX_CHAIN_LEVELS})
        marked = con.execute("SELECT count(*) FROM certificates WHERE is_cross_certificate").fetchone()
    return int(marked[0]) if marked else 0


def _parsed_cert(row: dict[str, Any]) -> ParsedCert:
    return ParsedCert(
        der=row["der"],
        der_sha256=row["der_sha256"],
        subject_rfc4514=row["subject_rfc4514"],
        subject_der=row["subject_der"],
        issuer_rfc4514=row["issuer_rfc4514"],
        issuer_der=row["issuer_der"],
        serial_hex=row["serial_hex"],
        not_before=_utc(row["not_before_utc"]),
        not_after=_utc(row["not_after_utc"]),
        is_ca=row["is_ca"],
        path_length=row["path_length"],
        key_usage=frozenset(row["key_usage"]),
        key_usage_present=row["key_usage_present"],
        eku_oids=tuple(row["eku_oids"]),
        eku_absent=row["eku_absent"],
        ocsp_nocheck=row["ocsp_nocheck"],
        name_constraints=row["name_constraints"],
        ski_hex=row["ski_hex"],
        aki_hex=row["aki_hex"],
        spki_sha256=row["spki_sha256"],
        crl_urls=tuple(row["crl_urls"]),
        ocsp_urls=tuple(row["ocsp_urls"]),
        ca_issuers_urls=tuple(row["ca_issuers_urls"]),
        policy_oids=tuple(row["policy_oids"]),
        precert_poison=row["precert_poison"],
        self_issued=row["self_issued"],
        self_signed=row["self_signed"],
        kind=CertKind(row["kind"]),
        parser=row["parser"],
        warnings=tuple(row["parse_warnings"]),
        san_dns_names=tuple(row["san_dns_names"]),
        san_ip_addresses=tuple(row["san_ip_addresses"]),
        x509_version=row["x509_version"],
    )


def _utc(naive_utc: datetime | None) -> datetime | None:
    return None if naive_utc is None else naive_utc.replace(tzinfo=UTC)
