"""crt.sh certificate IDs ctwatch saw in searches and imports, kept with what tells their certificate
apart, so an ID a bug names resolves to a stored certificate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from ctwatch.timeutil import require_aware
from ctwatch.warehouse._db import transaction
from ctwatch.warehouse.sqlfiles import load_sql, query_count

_MAX_BIGINT = 2**63 - 1


@dataclass(frozen=True, slots=True)
class CrtshCertificateId:
    """A crt.sh ID as a search or import returned it, with what tells its certificate apart."""

    crtsh_id: int
    der_sha256: str | None  # when crt.sh told it (CSV sha256, or a downloaded DER's hash)
    serial_hex: str | None  # ParsedCert.serial_hex form
    not_before: datetime | None
    issuer_name: str | None  # crt.sh's issuer_name text
    location: str  # the search URL or the imported file


def is_crtsh_id(text: str) -> bool:
    """Whether `text` is a crt.sh ID the warehouse can keep: a positive decimal BIGINT."""
    # a BIGINT has at most 19 digits; int() of a much longer text is refused by Python itself
    return text.isascii() and text.isdecimal() and len(text) <= 19 and 0 < int(text) <= _MAX_BIGINT


def store_crtsh_ids(
    con: duckdb.DuckDBPyConnection, ids: Sequence[CrtshCertificateId], *, observed_at: datetime
) -> int:
    """Record the crt.sh IDs one search or import returned at `observed_at`; return how many were new.

    Storing an ID again keeps its earliest observation and only fills in what was unknown.
    """
    require_aware(observed_at, "observed_at")
    merged: dict[int, CrtshCertificateId] = {}
    for entry in ids:
        if entry.der_sha256 is None and (entry.serial_hex is None or entry.not_before is None):
            raise ValueError(f"crt.sh ID {entry.crtsh_id} has neither a SHA-256 nor serial and notBefore")
        known = merged.get(entry.crtsh_id)
        merged[entry.crtsh_id] = entry if known is None else _fill(known, entry)
    if not merged:
        return 0
    ordered = [merged[key] for key in sorted(merged)]
    with transaction(con):
        before = _count_crtsh_ids(con)
        con.execute(
            load_sql("sources/insert_crtsh_certificate_ids"),
            {
                "crtsh_id": [e.crtsh_id for e in ordered],
                "der_sha256": [e.der_sha256 for e in ordered],
                "serial_hex": [e.serial_hex for e in ordered],
                "not_before": [e.not_before for e in ordered],
                "issuer_name": [e.issuer_name for e in ordered],
                "location": [e.location for e in ordered],
                "observed_at": observed_at,
            },
        )
        return _count_crtsh_ids(con) - before


def _fill(known: CrtshCertificateId, other: CrtshCertificateId) -> CrtshCertificateId:
    """One ID returned twice in a batch: the first entry, with what only the second knew."""
    return CrtshCertificateId(
        crtsh_id=known.crtsh_id,
        der_sha256=known.der_sha256 or other.der_sha256,
        serial_hex=known.serial_hex or other.serial_hex,
        not_before=known.not_before or other.not_before,
        issuer_name=known.issuer_name or other.issuer_name,
        location=known.location,
    )


def _count_crtsh_ids(con: duckdb.DuckDBPyConnection) -> int:
    return query_count(con, "sources/count_crtsh_certificate_ids")
