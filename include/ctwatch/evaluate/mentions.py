"""Which stored certificates a Bugzilla bug names, and since when, from the evidence ctwatch had by an
as-of: bug summaries and public comment texts, and the crt.sh IDs crt.sh searches and imports
returned (ctwatch.warehouse.crtsh_ids). The text matching is ctwatch.sources.bug_mentions.

A bug names a certificate by its SHA-256, by a crt.sh ID of it, or by its serial number together
with its issuer's name; a serial alone names none (serials repeat across CAs).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from ctwatch.sources.bug_mentions import comparable, issuer_label, named_identifiers, names_issuer
from ctwatch.timeutil import require_aware
from ctwatch.warehouse.sqlfiles import query_dicts

# the order a mention is preferred in when two are equally early
HOW_NAMED = ("sha256", "crtsh_id", "issuer_serial")
SUMMARY = "summary"


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
    require_aware(as_of, "as_of")
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
