"""Trust scope and CA owner of a certificate, from the CCADB snapshot nearest a given time.

A certificate whose chain reaches a root a store includes (the root record's Apple, Chrome,
Microsoft or Mozilla status, or the "Status of Root Cert") is in scope; its CA owner is CCADB's
"CA Owner", its subordinate CA owner is shown beside it. A certificate CCADB does not list takes the
owner of the nearest stored issuer it lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import duckdb

from ctwatch.timeutil import utc_or_none
from ctwatch.warehouse import query_dicts

NO_CCADB_OWNER: Final = "(not in CCADB)"
MAX_CHAIN_DEPTH: Final = 6
_STORE_NAMES: Final = {
    "apple": "Apple",
    "chrome": "Chrome",
    "google chrome": "Chrome",
    "microsoft": "Microsoft",
    "mozilla": "Mozilla",
}


def _rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return query_dicts(con, f"evaluate/{name}", params)


@dataclass(frozen=True, slots=True)
class Scope:
    ca_owner: str
    subordinate_ca_owner: str | None
    stores: tuple[str, ...]
    basis: str


class Ccadb:
    """CCADB records of the snapshot nearest a given time, with a chain walk to the root."""

    def __init__(self, con: duckdb.DuckDBPyConnection, as_of: datetime) -> None:
        self._con = con
        self._snapshots = [
            (int(r["id"]), utc_or_none(r["observed_at"]))
            for r in _rows(con, "ccadb_snapshots", {"as_of": as_of})
        ]
        self._records: dict[int, dict[str, dict[str, Any]]] = {}
        self._issuers: dict[str, list[str]] = {}

    def _snapshot_for(self, at: datetime) -> tuple[int, str] | None:
        if not self._snapshots:
            return None
        before = [s for s in self._snapshots if s[1] is not None and s[1] <= at]
        snapshot_id, observed_at = before[-1] if before else self._snapshots[0]
        when = observed_at.strftime("%Y-%m-%dT%H:%MZ") if observed_at else "?"
        side = "at or before" if before else "after (none earlier)"
        return snapshot_id, f"CCADB snapshot {when}, {side} {at.strftime('%Y-%m-%dT%H:%MZ')}"

    def _records_of(self, snapshot_id: int) -> dict[str, dict[str, Any]]:
        if snapshot_id not in self._records:
            rows = _rows(self._con, "ccadb_records", {"snapshot_id": snapshot_id})
            self._records[snapshot_id] = {r["der_sha256"]: r for r in rows}
        return self._records[snapshot_id]

    def prefetch_issuers(self, der_sha256: Iterable[str]) -> None:
        """Load the stored issuers of these certificates and of their issuers, up the chain."""
        pending = set(der_sha256) - set(self._issuers)
        for _ in range(MAX_CHAIN_DEPTH):
            if not pending:
                return
            found: dict[str, list[str]] = {d: [] for d in pending}
            for row in _rows(self._con, "issuers", {"der_sha256": sorted(pending)}):
                found[row["der_sha256"]].append(row["issuer_der_sha256"])
            self._issuers.update(found)
            pending = {i for issuers in found.values() for i in issuers} - set(self._issuers)

    def scope(self, der_sha256: str, at: datetime) -> Scope:
        chosen = self._snapshot_for(at)
        if chosen is None:
            return Scope(NO_CCADB_OWNER, None, (), "no CCADB snapshot by the as-of")
        snapshot_id, basis = chosen
        records = self._records_of(snapshot_id)
        record, via = self._own_or_ancestor(records, der_sha256)
        if record is None:
            return Scope(NO_CCADB_OWNER, None, (), f"{basis}: neither it nor a stored issuer is listed")
        stores = self._stores(records, record)
        owner = record["ca_owner"] or NO_CCADB_OWNER
        note = "" if via == der_sha256 else f" (through issuer {via[:16]})"
        return Scope(owner, record["subordinate_ca_owner"] or None, stores, f"{basis}{note}")

    def _own_or_ancestor(
        self, records: dict[str, dict[str, Any]], der_sha256: str
    ) -> tuple[dict[str, Any] | None, str]:
        frontier, seen = [der_sha256], {der_sha256}
        for _ in range(MAX_CHAIN_DEPTH):
            for der in frontier:
                if der in records:
                    return records[der], der
            frontier = [i for d in frontier for i in self._issuers.get(d, []) if i not in seen]
            seen.update(frontier)
        return None, der_sha256

    @staticmethod
    def _stores(records: dict[str, dict[str, Any]], record: dict[str, Any]) -> tuple[str, ...]:
        """Stores that include the root the record's chain reaches (root fields or 'Status of Root Cert')."""
        stores: set[str] = set()
        current: dict[str, Any] | None = record
        for _ in range(MAX_CHAIN_DEPTH):
            if current is None:
                break
            for part in (current["root_status"] or "").split(";"):
                label, _, status = part.partition(":")
                name = _STORE_NAMES.get(label.strip().lower())
                if name and status.strip().lower() == "included":
                    stores.add(name)
            if (current["record_type"] or "").lower().startswith("root"):
                for field, name in (
                    ("apple_status", "Apple"),
                    ("chrome_status", "Chrome"),
                    ("microsoft_status", "Microsoft"),
                    ("mozilla_status", "Mozilla"),
                ):
                    if (current[field] or "").strip().lower() == "included":
                        stores.add(name)
                break
            parent = current["parent_der_sha256"]
            current = records.get(parent) if parent else None
        return tuple(sorted(stores))
