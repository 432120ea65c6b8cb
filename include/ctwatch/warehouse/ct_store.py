"""CT ingestion tables (migration 0003 and ct_log_coverage): tree heads, follow state, coverage,
watched leaves, daily counts, undecodable entries; (0007) the heads and ranges refused; and
(0008) the earliest CT sighting of every chain certificate per log.

Every writer here is one statement over bound lists (DuckDB `unnest`), so a caller can put a
whole load in one transaction (`warehouse.transaction`): rows and coverage commit together or
not at all. Log ids and hashes are lower-case hex, as in the rest of the warehouse, except the
leaf hash and serial of `ct_leaves`, stored as raw bytes to keep a row small.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from ctwatch.warehouse._db import bound_columns, row_count
from ctwatch.warehouse.sqlfiles import load_sql, query_dicts


@dataclass(frozen=True, slots=True)
class TreeHeadRecord:
    """A verified tree head of a log; `signature` is the STH DigitallySigned or the checkpoint note."""

    log_id: str
    tree_size: int
    timestamp_ms: int
    root_hash: bytes
    signature: bytes
    signature_format: str  # 'rfc6962_sth' or 'checkpoint'


@dataclass(frozen=True, slots=True)
class CoveredRange:
    """Entries [start_index, end_exclusive) of a log, proven part of the head (tree_size, root_hash)."""

    log_id: str
    start_index: int
    end_exclusive: int
    tree_size: int
    timestamp_ms: int
    root_hash: bytes


@dataclass(frozen=True, slots=True)
class DailyCount:
    log_id: str
    issuer_spki_sha256: str  # '' when the issuer could not be told
    day: int  # UTC days since 1970-01-01
    precert: bool
    entries: int


@dataclass(frozen=True, slots=True)
class EntryError:
    log_id: str
    entry_index: int
    leaf_hash: bytes | None
    error: str


@dataclass(frozen=True, slots=True)
class VerificationFailure:
    """A tree head or range a run refused, and the evidence why (see migration 0007)."""

    log_id: str
    observed_at: datetime
    kind: str  # 'tree_head_signature', 'consistency', 'range_proof' or 'fetch'
    detail: str
    tree_size: int | None = None
    previous_tree_size: int | None = None
    start_index: int | None = None
    end_exclusive: int | None = None
    expected_hex: str | None = None
    served_hex: str | None = None


@dataclass(frozen=True, slots=True)
class CtSighting:
    """A CT entry whose chain carried a certificate, with the verified head covering the entry."""

    der_sha256: str
    log_id: str
    entry_index: int
    timestamp_ms: int  # CT timestamp of the entry
    tree_size: int
    sth_timestamp_ms: int
    sth_root_hash: bytes


@dataclass(slots=True)
class LeafColumns:
    """Leaf rows column by column; `extend_log` appends rows of one log."""

    log_id: list[str] = field(default_factory=list)
    entry_index: list[int] = field(default_factory=list)
    timestamp_ms: list[int] = field(default_factory=list)
    leaf_hash: list[bytes] = field(default_factory=list)
    precert: list[bool] = field(default_factory=list)
    issuer_spki_sha256: list[str] = field(default_factory=list)
    serial: list[bytes | None] = field(default_factory=list)
    not_before_s: list[int | None] = field(default_factory=list)
    not_after_s: list[int | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.entry_index)


def store_tree_heads(con: duckdb.DuckDBPyConnection, heads: Sequence[TreeHeadRecord]) -> int:
    """Store verified heads not stored yet (by log, size and root); return how many were new."""
    if not heads:
        return 0
    columns = {
        **bound_columns(heads, ("log_id", "tree_size", "timestamp_ms", "signature", "signature_format")),
        "root_hash": [h.root_hash.hex() for h in heads],
    }
    return row_count(con.execute(load_sql("ct/insert_tree_heads"), columns))


def latest_tree_heads(con: duckdb.DuckDBPyConnection) -> dict[str, TreeHeadRecord]:
    """The largest stored head of every log, by log id."""
    rows = con.execute(load_sql("ct/latest_tree_heads")).fetchall()
    return {
        log_id: TreeHeadRecord(log_id, size, timestamp_ms, bytes.fromhex(root), bytes(signature), fmt)
        for log_id, size, timestamp_ms, root, signature, fmt in rows
    }


def follow_from(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Where live monitoring starts, per followed log id."""
    rows = con.execute(load_sql("ct/follow_from")).fetchall()
    return {log_id: int(index) for log_id, index in rows}


def follow_details(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Per followed log id: follow_from_index, first_tree_size, first_sth_timestamp, description."""
    return {row["log_id"]: row for row in query_dicts(con, "ct/follow_details", {})}


def lower_follow_start(con: duckdb.DuckDBPyConnection, log_id: str, to_index: int) -> bool:
    """Follow `log_id` from `to_index` on; False when it is not followed or already starts there."""
    return (
        con.execute(load_sql("ct/lower_follow_start"), {"log_id": log_id, "to_index": to_index}).fetchone()
        is not None
    )


def start_following(
    con: duckdb.DuckDBPyConnection,
    head: TreeHeadRecord,
    follow_from_index: int,
    log_url: str,
    description: str,
) -> bool:
    """Record that `head`'s log is followed from `follow_from_index`, and the head itself; False if
    the log was followed already (the first record stays)."""
    store_tree_heads(con, [head])
    params = {
        "log_id": head.log_id,
        "follow_from_index": follow_from_index,
        "first_tree_size": head.tree_size,
        "timestamp_ms": head.timestamp_ms,
        "log_url": log_url,
        "description": description,
    }
    return row_count(con.execute(load_sql("ct/insert_follow"), params)) == 1


def coverage(con: duckdb.DuckDBPyConnection, log_ids: Collection[str]) -> dict[str, list[tuple[int, int]]]:
    """Covered [start, end_exclusive) ranges per log, sorted (adjacent ranges are not merged)."""
    rows = con.execute(load_sql("ct/coverage"), {"log_ids": list(log_ids)}).fetchall()
    covered: dict[str, list[tuple[int, int]]] = {log_id: [] for log_id in log_ids}
    for log_id, start, end in rows:
        covered[log_id].append((int(start), int(end)))
    return covered


def add_coverage(con: duckdb.DuckDBPyConnection, ranges: Sequence[CoveredRange]) -> None:
    if not ranges:
        return
    columns = {
        **bound_columns(ranges, ("log_id", "start_index", "end_exclusive", "tree_size", "timestamp_ms")),
        "root_hash": [r.root_hash.hex() for r in ranges],
    }
    con.execute(load_sql("ct/insert_coverage"), columns)


def store_leaves(con: duckdb.DuckDBPyConnection, leaves: LeafColumns) -> int:
    """Insert watched leaf rows (no deduplication: coverage guarantees a range is loaded once)."""
    if not len(leaves):
        return 0
    columns = {name: getattr(leaves, name) for name in LeafColumns.__dataclass_fields__}
    return row_count(con.execute(load_sql("ct/insert_leaves"), columns))


def add_daily_counts(con: duckdb.DuckDBPyConnection, counts: Sequence[DailyCount]) -> None:
    """Add entry counts to the stored per-(log, issuer, day, precert) totals."""
    if not counts:
        return
    con.execute(load_sql("ct/stage_counts"), bound_columns(counts, DailyCount.__dataclass_fields__))
    con.execute(load_sql("ct/update_counts"))
    con.execute(load_sql("ct/insert_counts"))
    con.execute(load_sql("ct/drop_count_batch"))


def record_sightings(con: duckdb.DuckDBPyConnection, sightings: Sequence[CtSighting]) -> None:
    """Keep, per (certificate, log), the earliest sighting (CT timestamp, then index) of the stored
    ones and these; the result does not depend on the order sightings arrive in."""
    if not sightings:
        return
    same = ("der_sha256", "log_id", "entry_index", "timestamp_ms", "tree_size", "sth_timestamp_ms")
    columns = {**bound_columns(sightings, same), "sth_root_hash": [s.sth_root_hash.hex() for s in sightings]}
    con.execute(load_sql("ct/stage_sightings"), columns)
    con.execute(load_sql("ct/update_sightings"))
    con.execute(load_sql("ct/insert_sightings"))
    con.execute(load_sql("ct/drop_sighting_batch"))


def store_entry_errors(con: duckdb.DuckDBPyConnection, errors: Sequence[EntryError]) -> int:
    if not errors:
        return 0
    columns = bound_columns(errors, EntryError.__dataclass_fields__)
    return row_count(con.execute(load_sql("ct/insert_entry_errors"), columns))


def store_verification_failures(
    con: duckdb.DuckDBPyConnection, failures: Sequence[VerificationFailure]
) -> int:
    """Store refused heads and ranges (an observation already stored is not repeated); return how
    many rows were added."""
    if not failures:
        return 0
    columns = bound_columns(failures, VerificationFailure.__dataclass_fields__)
    return row_count(con.execute(load_sql("ct/insert_verification_failures"), columns))


def watched_issuer_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """spki_sha256 of every certificate with an open error or warning finding."""
    return [row[0] for row in con.execute(load_sql("ct/watched_issuers")).fetchall()]


def stored_der_sha256(con: duckdb.DuckDBPyConnection, der_sha256: Collection[str]) -> set[str]:
    """Which of these certificates the warehouse holds already."""
    if not der_sha256:
        return set()
    rows = con.execute(load_sql("certificates/stored_der_sha256"), {"hashes": list(der_sha256)}).fetchall()
    return {row[0] for row in rows}


def cross_certificate_flags(con: duckdb.DuckDBPyConnection, der_sha256: Collection[str]) -> dict[str, bool]:
    """is_cross_certificate of these stored certificates (see certificates/mark_cross.sql)."""
    rows = con.execute(load_sql("certificates/cross_flags"), {"hashes": list(der_sha256)}).fetchall()
    return {sha: bool(flag) for sha, flag in rows}
