"""Which stored certificates a Bugzilla bug names, and since when, from the evidence ctwatch had by an
as-of: bug summaries and public comment texts, and the crt.sh IDs crt.sh searches and imports
returned (`store_crtsh_ids` keeps those). The text matching is ctwatch.sources.bug_mentions.

A bug names a certificate by its SHA-256, by a crt.sh ID of it, or by its serial number together
with its issuer's name; a serial alone names none (serials repeat across CAs).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from ctwatch.sources.bug_mentions import comparable, issuer_label, named_identifiers, names_issuer
from ctwatch.warehouse._db import transaction
from ctwatch.warehouse.sqlfiles import load_sql, query_dicts

# the order a mention is preferred in when two are equally early
HOW_NAMED = ("sha256", "crtsh_id", "issuer_serial")
SUMMARY = "summary"
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


@dataclass(frozen=True, slots=True)
class CertificateMention:
    bug_id: int
    der_sha256: str
    # when the naming text was written: the bug's filing for its summary, else the comment's creation
    mentioned_at: datetime
    how: str  # 'sha256' | 'crtsh_id' | 'issuer_serial'
    where: str  # 'summary' or 'comment <count>'


@dataclass(frozen=True, slots=True)
class _Certificate:
    der_sha256: str
    serial_hex: str | None
    issuer_label: str | None


def is_crtsh_id(text: str) -> bool:
    """Whether `text` is a crt.sh ID the warehouse can keep: a positive decimal BIGINT."""
    return text.isascii() and text.isdecimal() and 0 < int(text) <= _MAX_BIGINT


def store_crtsh_ids(
    con: duckdb.DuckDBPyConnection, ids: Sequence[CrtshCertificateId], *, observed_at: datetime
) -> int:
    """Record the crt.sh IDs one search or import returned at `observed_at`; return how many were new.

    Storing an ID again keeps its earliest observation and only fills in what was unknown.
    """
    if observed_at.tzinfo is None:
        raise ValueError("observed_at must be timezone-aware")
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
    row = con.execute("SELECT count(*) FROM crtsh_certificate_ids").fetchone()
    return int(row[0]) if row else 0


def certificate_mentions(
    con: duckdb.DuckDBPyConnection,
    bug_ids: Collection[int],
    der_sha256: Collection[str],
    as_of: datetime,
) -> list[CertificateMention]:
    """The earliest mention of each certificate `der_sha256` (lower-case hex) in each bug of
    `bug_ids`, from what ctwatch had by `as_of`, sorted by bug and certificate.

    Texts: the summary as the latest search by `as_of` saw it (mentioned at the bug's filing) and
    the public comments created and first observed by `as_of` (mentioned at their creation). A
    SHA-256 names a certificate whether or not it is stored; a crt.sh ID or a serial + issuer name
    only a stored one.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    wanted = set(der_sha256)
    if not bug_ids or not wanted:
        return []
    certificates: list[_Certificate] = []
    by_crtsh_id: dict[int, list[str]] = {}
    for row in query_dicts(con, "bug_mentions/certificates", {"der_sha256": sorted(wanted), "as_of": as_of}):
        issuer = row["issuer_rfc4514"]
        certificates.append(
            _Certificate(row["der_sha256"], row["serial_hex"], issuer_label(issuer) if issuer else None)
        )
        for crtsh_id in row["crtsh_ids"]:
            by_crtsh_id.setdefault(int(crtsh_id), []).append(row["der_sha256"])
    by_serial: dict[str, list[_Certificate]] = {}
    for cert in certificates:
        if cert.serial_hex is not None and cert.issuer_label is not None:
            by_serial.setdefault(cert.serial_hex, []).append(cert)

    earliest: dict[tuple[int, str], tuple[tuple[datetime, int, int], CertificateMention]] = {}
    texts = query_dicts(con, "bug_mentions/texts", {"bug_ids": sorted(set(bug_ids)), "as_of": as_of})
    for text_row in texts:
        bug_id, count = int(text_row["bug_id"]), text_row["comment_count"]
        written_at = text_row["written_at"].astimezone(UTC)
        where = SUMMARY if count is None else f"comment {count}"
        for found_sha256, how in _named_in(text_row["text"], wanted, by_crtsh_id, by_serial):
            rank = (written_at, -1 if count is None else int(count), HOW_NAMED.index(how))
            mention = CertificateMention(bug_id, found_sha256, written_at, how, where)
            key = (bug_id, found_sha256)
            if key not in earliest or rank < earliest[key][0]:
                earliest[key] = (rank, mention)
    return [earliest[key][1] for key in sorted(earliest)]


def _named_in(
    text: str,
    wanted: set[str],
    by_crtsh_id: dict[int, list[str]],
    by_serial: dict[str, list[_Certificate]],
) -> list[tuple[str, str]]:
    """(der_sha256, how) for each way `text` names one of the wanted certificates."""
    names = named_identifiers(text)
    found = [(sha256, "sha256") for sha256 in sorted(names.sha256 & wanted)]
    found += [(sha256, "crtsh_id") for i in sorted(names.crtsh_ids) for sha256 in by_crtsh_id.get(i, ())]
    serial_hits = [cert for serial in sorted(names.serials) for cert in by_serial.get(serial, ())]
    if serial_hits:
        folded = comparable(text)
        found += [
            (cert.der_sha256, "issuer_serial")
            for cert in serial_hits
            if cert.issuer_label is not None and names_issuer(folded, cert.issuer_label)
        ]
    return found
