"""The stored certificates an evaluation reads, with when CT first showed each one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import duckdb

from ctwatch.policy import validity_period_s
from ctwatch.timeutil import utc_or_none
from ctwatch.warehouse import query_dicts

# How a certificate's first CT time is known (the start of `CertInfo.first_ct_basis`).
FIRST_CT_ENTRY: Final = "ct_entry_timestamp"
FIRST_CT_TREE_HEAD: Final = "ct_tree_head"
FIRST_CT_NONE: Final = "no_ct_position"


@dataclass(frozen=True, slots=True)
class CertInfo:
    der_sha256: str
    spki_sha256: str | None
    kind: str
    is_ca: bool
    subject: str | None
    issuer: str | None
    serial_hex: str | None
    not_before: datetime | None
    not_after: datetime | None
    dns_names: tuple[str, ...]
    first_ct_at: datetime | None  # exact entry time, or the covering tree head (upper bound)
    first_ct_basis: str
    precert_der_sha256: str | None

    @property
    def first_public_at(self) -> datetime | None:
        """When the world could first see it: its CT time, else its notBefore."""
        return self.first_ct_at or self.not_before

    @property
    def issued_at(self) -> datetime | None:
        """The earliest evidence of its issuance: its notBefore or its first CT time, whichever is
        earlier (a CA can log a certificate before its notBefore, never issue it after logging)."""
        known = [t for t in (self.not_before, self.first_ct_at) if t is not None]
        return min(known, default=None)

    @property
    def validity_s(self) -> int | None:
        """BR 1.6.1 validity period in seconds (notAfter inclusive), when both ends are known."""
        if self.not_before is None or self.not_after is None:
            return None
        return validity_period_s(self.not_before, self.not_after)

    def visible_by(self, as_of: datetime) -> bool:
        seen = self.first_public_at
        return seen is None or seen <= as_of


def _first_ct(row: dict[str, Any]) -> tuple[datetime | None, str]:
    """The first CT time and its basis: the earliest recorded sighting's entry timestamp; for a
    certificate loaded before sightings were kept, its first_seen_source entry (timestamp if the
    leaf was kept, else the covering tree head's, an upper bound)."""
    sighting_at = utc_or_none(row["sighting_at"])
    if sighting_at is not None:
        return sighting_at, f"{FIRST_CT_ENTRY}: {row['sighting_log_id']}#{row['sighting_index']}"
    position = f"{row['ct_log_id']}#{row['ct_index']}"
    entry_at, covered_at = utc_or_none(row["ct_entry_at"]), utc_or_none(row["ct_covered_at"])
    if entry_at is not None:
        return entry_at, f"{FIRST_CT_ENTRY}: {position}"
    if covered_at is not None:
        return covered_at, f"{FIRST_CT_TREE_HEAD}: covering {position} (upper bound; entry not kept)"
    return None, f"{FIRST_CT_NONE}: no CT position recorded"


def _cert_info(row: dict[str, Any]) -> CertInfo:
    first_ct_at, basis = _first_ct(row)
    return CertInfo(
        der_sha256=row["der_sha256"],
        spki_sha256=row["spki_sha256"],
        kind=row["kind"],
        is_ca=bool(row["is_ca"]),
        subject=row["subject_rfc4514"],
        issuer=row["issuer_rfc4514"],
        serial_hex=row["serial_hex"],
        not_before=utc_or_none(row["not_before"]),
        not_after=utc_or_none(row["not_after"]),
        dns_names=tuple(row["san_dns_names"] or ()),
        first_ct_at=first_ct_at,
        first_ct_basis=basis,
        precert_der_sha256=row["precert_der_sha256"],
    )


def load_certificates(
    con: duckdb.DuckDBPyConnection, *, der_sha256: Iterable[str] = (), spki_sha256: Iterable[str] = ()
) -> dict[str, CertInfo]:
    """The stored certificates with these hashes or keys, by der_sha256."""
    rows = query_dicts(
        con,
        "evaluate/certificates",
        {"der_sha256": sorted(set(der_sha256)), "spki_sha256": sorted(set(spki_sha256))},
    )
    return {row["der_sha256"]: _cert_info(row) for row in rows}
