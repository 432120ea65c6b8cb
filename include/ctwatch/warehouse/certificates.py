"""Store analysed certificates and undecodable input; read certificates back for the rules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from ctwatch.warehouse._db import bound_columns, row_count, transaction
from ctwatch.warehouse.sqlfiles import load_sql, query_count
from ctwatch.x509.model import CertError, CertKind, ParsedCert

FETCH_BATCH_ROWS = 2048
# how far up a subject's own chain is walked; real Web PKI hierarchies are shallower
MAX_CHAIN_LEVELS = 6
# `certificates` columns holding the ParsedCert attribute of the same name: as it is, or as a list
_SAME_COLUMNS = (
    "der_sha256", "der", "subject_rfc4514", "subject_der", "issuer_rfc4514", "issuer_der", "serial_hex",
    "is_ca", "path_length", "key_usage_present", "eku_absent", "ocsp_nocheck", "name_constraints",
    "ski_hex", "aki_hex", "spki_sha256", "precert_poison", "self_issued", "self_signed", "parser",
    "x509_version",
)  # fmt: skip
_LIST_COLUMNS = (
    "eku_oids", "crl_urls", "ocsp_urls", "ca_issuers_urls", "policy_oids", "san_dns_names",
    "san_ip_addresses",
)  # fmt: skip


def store_certificates(con: duckdb.DuckDBPyConnection, certs: Sequence[ParsedCert], source: str) -> int:
    """Insert the certificates not stored yet (by der_sha256); return how many were new.

    `source` says where they were first seen: 'ct:<log_id>:<index>', 'file:<path>', 'ccadb', 'crtsh'.
    One statement, so the batch is stored entirely or not at all.
    """
    if not certs:
        return 0
    columns: dict[str, object] = {
        **bound_columns(certs, _SAME_COLUMNS),
        **{name: [list(getattr(c, name)) for c in certs] for name in _LIST_COLUMNS},
        "not_before": [c.not_before for c in certs],
        "not_after": [c.not_after for c in certs],
        "key_usage": [sorted(c.key_usage) for c in certs],
        "kind": [c.kind.value for c in certs],
        "parse_warnings": [list(c.warnings) for c in certs],
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
        return query_count(con, "certificates/count_cross")


def _parsed_cert(row: dict[str, Any]) -> ParsedCert:
    same: dict[str, Any] = {
        **{name: row[name] for name in _SAME_COLUMNS},
        **{name: tuple(row[name]) for name in _LIST_COLUMNS},
    }
    return ParsedCert(
        **same,
        not_before=_utc(row["not_before_utc"]),
        not_after=_utc(row["not_after_utc"]),
        key_usage=frozenset(row["key_usage"]),
        kind=CertKind(row["kind"]),
        warnings=tuple(row["parse_warnings"]),
    )


def _utc(naive_utc: datetime | None) -> datetime | None:
    return None if naive_utc is None else naive_utc.replace(tzinfo=UTC)
