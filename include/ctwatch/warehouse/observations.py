"""Revocation sources in the warehouse: snapshots, sightings, CCADB records, Bugzilla bugs and
comments, and the revocation_observations derived from them. Values are bound; SQL lives in
sql/sources/."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from ctwatch.evidence.revocation import RecordError
from ctwatch.timeutil import require_aware, utc_or_none
from ctwatch.warehouse._db import bound_columns, row_count, transaction
from ctwatch.warehouse.sqlfiles import load_sql, query_count, query_dicts

if TYPE_CHECKING:
    from ctwatch.evidence.bugzilla import Bug, BugComment
    from ctwatch.evidence.ccadb import CcadbRecord
    from ctwatch.evidence.revocation import Snapshot
    from ctwatch.warehouse.crl_findings import ArchiveFinding


# Sighting and BugComment attributes bound as they are, one list per column of the same name
_SIGHTING_COLUMNS = (
    "der_sha256", "issuer_spki_sha256", "issuer_name_der", "serial_hex", "subject_spki_sha256",
    "subject_name_der", "revoked_at_claimed", "reason", "source_action_at", "source_modified_at",
    "third_party_seen_at", "this_update", "next_update", "record_ref",
)  # fmt: skip
_COMMENT_COLUMNS = ("comment_id", "count", "creator", "creation_time", "is_private", "text")


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    snapshot_id: int
    new: bool  # False: the same bytes at the same time were stored before (nothing written)
    sightings: int
    errors: int


def store_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshot: Snapshot,
    *,
    ccadb_records: Sequence[CcadbRecord] = (),
) -> StoredSnapshot:
    """Store a snapshot with its sightings, record errors and (for CCADB) records, all or nothing.

    Storing the same bytes from the same location at the same observation time again is a no-op.
    A sighting without a target cannot be stored and is recorded as an error instead.
    """
    require_aware(snapshot.observed_at, "observed_at")
    key = {
        "source": str(snapshot.source),
        "content_sha256": snapshot.content_sha256,
        "observed_at": snapshot.observed_at,
        "location": snapshot.location,
    }
    existing = con.execute(load_sql("sources/find_snapshot"), key).fetchone()
    if existing is not None:
        return StoredSnapshot(int(existing[0]), new=False, sightings=0, errors=0)
    sightings = [s for s in snapshot.sightings if s.has_target()]
    errors = list(snapshot.errors) + [
        RecordError(s.record_ref or "?", "sighting names no certificate, issuer+serial or key")
        for s in snapshot.sightings
        if not s.has_target()
    ]
    with transaction(con):
        row = con.execute(
            load_sql("sources/insert_snapshot"),
            {
                **key,
                "observer": snapshot.observer,
                "stamp_kind": str(snapshot.stamp_kind),
                "raw_header": snapshot.raw_header,
                "lists_all_revoked": snapshot.lists_all_revoked,
                "record_count": len(snapshot.sightings) + len(ccadb_records),
                "error_count": len(errors),
            },
        ).fetchone()
        assert row is not None  # INSERT ... RETURNING gives the row
        snapshot_id = int(row[0])
        if sightings:
            con.execute(
                load_sql("sources/insert_sightings"),
                {
                    **bound_columns(sightings, _SIGHTING_COLUMNS),
                    "snapshot_id": snapshot_id,
                    "status": [str(s.status) for s in sightings],
                    "detail": [s.detail_json() for s in sightings],
                },
            )
        if errors:
            _insert_errors(
                con,
                snapshot_id,
                source=str(snapshot.source),
                location=snapshot.location,
                errors=errors,
                recorded_at=snapshot.observed_at,
            )
        if ccadb_records:
            _insert_ccadb_records(con, snapshot_id, ccadb_records)
    return StoredSnapshot(snapshot_id, new=True, sightings=len(sightings), errors=len(errors))


def _insert_errors(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int | None,
    *,
    source: str,
    location: str,
    errors: Sequence[RecordError],
    recorded_at: datetime,
) -> None:
    con.execute(
        load_sql("sources/insert_errors"),
        {
            "snapshot_id": snapshot_id,
            "source": source,
            "location": location,
            **bound_columns(errors, ("record_ref", "error")),
            "recorded_at": recorded_at,
        },
    )


def record_fetch_error(
    con: duckdb.DuckDBPyConnection, source: str, location: str, error: str, recorded_at: datetime
) -> None:
    """A fetch that gave no snapshot at all (service down, rate limited for good)."""
    _insert_errors(
        con,
        None,
        source=source,
        location=location,
        errors=[RecordError("fetch", error)],
        recorded_at=recorded_at,
    )


def _insert_ccadb_records(
    con: duckdb.DuckDBPyConnection, snapshot_id: int, records: Sequence[CcadbRecord]
) -> None:
    columns = (
        "der_sha256", "salesforce_record_id", "certificate_name", "ca_owner", "subordinate_ca_owner",
        "parent_der_sha256", "parent_salesforce_record_id", "record_type", "revocation_status",
        "apple_status", "chrome_status", "microsoft_status", "mozilla_status", "root_status",
        "trust_bits_for_root", "derived_trust_bits", "technically_constrained", "valid_from", "valid_to",
    )  # fmt: skip
    batch = bound_columns(records, columns)
    batch["full_crl_urls"] = [list(r.full_crl_urls) for r in records]
    batch["partitioned_crl_urls"] = [list(r.partitioned_crl_urls) for r in records]
    con.execute(load_sql("sources/insert_ccadb_records"), {"snapshot_id": snapshot_id, **batch})


def refresh_observations(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """Rebuild `source`'s revocation_observations from all its sightings; return the row count.

    Derived rows only: the snapshots and sightings are the evidence, so rebuilding is idempotent
    and puts late-imported (older) snapshots in place.
    """
    with transaction(con):
        con.execute(load_sql("sources/delete_observations"), {"source": source})
        return row_count(con.execute(load_sql("sources/refresh_observations"), {"source": source}))


def store_bugs(
    con: duckdb.DuckDBPyConnection, bugs: Sequence[Bug], *, observed_at: datetime, location: str
) -> int:
    """Record the bugs one search returned; return how many rows were new."""
    if not bugs:
        return 0
    columns = (
        "bug_id", "summary", "whiteboard", "product", "component", "status", "resolution", "assigned_to",
        "creator", "creation_time", "last_change_time", "ca_owner",
    )  # fmt: skip
    params = {
        **bound_columns(bugs, columns),
        "revocation_delay_tags": [list(b.revocation_delay_tags) for b in bugs],
        "observed_at": observed_at,
        "location": location,
    }
    return row_count(con.execute(load_sql("sources/insert_bugzilla_bugs"), params))


@dataclass(frozen=True, slots=True)
class CommentFetch:
    """The latest complete comment fetch of a bug at or before some time."""

    fetched_at: datetime  # every comment created by then is known
    newest_comment_at: datetime | None  # None: the bug had no comment then


def store_bug_comments(
    con: duckdb.DuckDBPyConnection,
    bug_id: int,
    comments: Sequence[BugComment],
    errors: Sequence[RecordError],
    *,
    fetched_at: datetime,
    new_since: datetime | None,
    location: str,
) -> int:
    """Record one fetch of a bug's comments, its comments and its malformed ones (errors), all or
    nothing; return how many comments were new. A comment fetched again is not repeated."""
    require_aware(fetched_at, "fetched_at")
    if any(c.bug_id != bug_id for c in comments):
        raise ValueError(f"comments of another bug in a fetch of bug {bug_id}")
    unique = {c.comment_id: c for c in comments}
    ordered = [unique[k] for k in sorted(unique)]
    with transaction(con):
        before = _count_comments(con, bug_id)
        if ordered:
            con.execute(
                load_sql("sources/insert_bugzilla_comments"),
                {
                    **bound_columns(ordered, _COMMENT_COLUMNS),
                    "bug_id": bug_id,
                    "observed_at": fetched_at,
                    "location": location,
                },
            )
        con.execute(
            load_sql("sources/insert_bugzilla_comment_fetch"),
            {
                "bug_id": bug_id,
                "fetched_at": fetched_at,
                "new_since": new_since,
                "comments_returned": len(comments),
                "record_errors": len(errors),
                "newest_returned": max((c.creation_time for c in ordered), default=None),
                "location": location,
            },
        )
        if errors:
            _insert_errors(
                con, None, source="bugzilla", location=location, errors=errors, recorded_at=fetched_at
            )
        return _count_comments(con, bug_id) - before


def _count_comments(con: duckdb.DuckDBPyConnection, bug_id: int) -> int:
    return query_count(con, "sources/count_bugzilla_comments", {"bug_id": bug_id})


def comment_fetches(con: duckdb.DuckDBPyConnection, as_of: datetime) -> dict[int, CommentFetch]:
    """Per bug, the latest complete comment fetch at or before `as_of` (bugs never fetched: absent)."""
    return {
        int(row["bug_id"]): CommentFetch(
            fetched_at=row["fetched_at"].astimezone(UTC),
            newest_comment_at=utc_or_none(row["newest_comment_at"]),
        )
        for row in query_dicts(con, "sources/bugzilla_comment_fetches_as_of", {"as_of": as_of})
    }


def ccadb_owner_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every CA Owner and Subordinate CA Owner name CCADB has listed, longest first."""
    rows = con.execute(load_sql("sources/ccadb_owner_names")).fetchall()
    return sorted((str(r[0]) for r in rows), key=lambda name: (-len(name), name))


@dataclass(frozen=True, slots=True)
class CrlFindingsStored:
    found: int
    opened: int
    resolved: int


def crl_finding_key(finding: ArchiveFinding) -> str:
    """The identity of a CRL archive finding across evaluations (its detail may grow)."""
    return "|".join(
        (
            finding.code,
            finding.partition_key,
            finding.serial_hex or "",
            finding.crl_sha256 or "",
            finding.at.astimezone(UTC).isoformat(),
        )
    )


def store_crl_findings(
    con: duckdb.DuckDBPyConnection, findings: Sequence[ArchiveFinding], as_of: datetime
) -> CrlFindingsStored:
    """Record one evaluation of the CRL archive as of `as_of`: open new findings, keep found ones
    current, resolve those no longer found; all or nothing. The same `as_of` twice changes nothing."""
    require_aware(as_of, "as_of")
    unique = {crl_finding_key(f): f for f in findings}
    keys = sorted(unique)
    ordered = [unique[k] for k in keys]
    batch = {
        **bound_columns(ordered, ("code", "detail", "partition_key", "serial_hex", "crl_sha256")),
        "finding_key": keys,
        "severity": [str(f.severity) for f in ordered],
        "finding_at": [f.at for f in ordered],
        "as_of": as_of,
    }
    with transaction(con):
        before = _count_open_crl_findings(con)
        if keys:
            con.execute(load_sql("sources/crl_findings_upsert"), batch)
        opened = _count_open_crl_findings(con) - before
        resolved = row_count(
            con.execute(load_sql("sources/crl_findings_close"), {"finding_key": keys, "as_of": as_of})
        )
    return CrlFindingsStored(found=len(keys), opened=opened, resolved=resolved)


def _count_open_crl_findings(con: duckdb.DuckDBPyConnection) -> int:
    return query_count(con, "sources/count_open_crl_findings")
