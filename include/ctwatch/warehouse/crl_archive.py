"""The CRL archive: every fetch observed, every distinct version described, serials as runs.

A *partition* is what one CRL series covers: its issuer plus its Issuing Distribution Point scope
(or, without IDP, the URL it is served from); a delta CRL series is its own partition. Versions of a
partition are ordered by (thisUpdate, cRLNumber, hash), never by arrival: a backfilled old version
slots in between and the runs of presence are split, extended or merged around it, so loading the
same versions in any order gives the same runs.

Storage stays small for a big CRL polled often: an identical re-fetch adds one `crl_fetches` row;
a new version adds one `crl_versions` row and only the runs that start or end; the raw file is kept
only for the newest versions of a URL and for versions whose entry set changed (`release_raw`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ctwatch.crl import CrlEntry, CrlFinding, Severity, scan_crl
from ctwatch.crl.reader import CrlHeader, CrlTrailer
from ctwatch.evidence.crl import CrlFetch, CrlValidators
from ctwatch.evidence.revocation import CRLReason
from ctwatch.policy.windows import SUBORDINATE_CA_PUBLICATION
from ctwatch.warehouse._db import transaction
from ctwatch.warehouse.sqlfiles import load_sql, query_dicts
from ctwatch.x509 import ParsedCert

STAGE_BATCH_ROWS = 50_000
PUBLICATION_WINDOW = SUBORDINATE_CA_PUBLICATION  # a CRL may lag a revocation by this much (BR 4.9.7)
_NEGATIVE_CRL_NUMBER_OFFSET = 1 << 168  # > any 20-octet cRLNumber: keeps negatives ordered


@dataclass(frozen=True, slots=True)
class ArchiveOutcome:
    """What archiving one fetch did."""

    version_id: int | None  # the version served (None when the fetch or its body failed)
    new_version: bool
    staged_file_kept: bool  # False: the caller may delete the staged file
    scan_findings: tuple[CrlFinding, ...]  # one-file findings of a new version
    error: str | None


@dataclass(frozen=True, slots=True)
class ArchiveFinding:
    """A finding over the versions of a partition (or about one version)."""

    code: str
    severity: Severity
    detail: str
    partition_key: str
    at: datetime  # the moment it is about: a claimed date, a removal, a nextUpdate
    serial_hex: str | None = None
    crl_sha256: str | None = None  # the version that shows it


def partition_key(issuer_name_der: bytes, idp_scope: str | None, *, delta: bool, url: str) -> str:
    """SHA-256 hex naming the partition a CRL belongs to."""
    scope = f"idp:{idp_scope}" if idp_scope is not None else f"url:{url}"
    kind = "delta" if delta else "full"
    return hashlib.sha256(issuer_name_der + f"\0{kind}\0{scope}".encode()).hexdigest()


def crl_number_order(crl_number: int | None) -> str | None:
    """A string that sorts like the number (cRLNumber has up to 20 octets)."""
    if crl_number is None:
        return None
    if crl_number >= 0:
        return f"1{crl_number:044x}"
    return f"0{_NEGATIVE_CRL_NUMBER_OFFSET + crl_number:044x}"


def latest_validators(con: duckdb.DuckDBPyConnection, url: str) -> CrlValidators | None:
    """ETag / Last-Modified of the newest successful fetch of `url`, for a conditional GET."""
    row = con.execute(
        "SELECT etag, last_modified FROM crl_fetches WHERE url = $url AND version_id IS NOT NULL "
        "ORDER BY observed_at DESC LIMIT 1",
        {"url": url},
    ).fetchone()
    return None if row is None else CrlValidators(row[0], row[1])


def archive_fetch(
    con: duckdb.DuckDBPyConnection,
    fetch: CrlFetch,
    *,
    issuer: ParsedCert | None = None,
    temp_dir: Path | None = None,
) -> ArchiveOutcome:
    """Record one fetch: an error, a 304, a version already known, or a new version (streamed in).

    `issuer` (the CRL issuer's certificate) lets the signature be checked. Bad bodies are recorded
    as fetch errors, never raised.
    """
    if fetch.error is not None:
        _insert_fetch(con, fetch, None, fetch.error)
        return ArchiveOutcome(None, False, False, (), fetch.error)
    if fetch.not_modified:
        row = con.execute(
            "SELECT version_id FROM crl_fetches WHERE url = $url AND version_id IS NOT NULL "
            "ORDER BY observed_at DESC LIMIT 1",
            {"url": fetch.url},
        ).fetchone()
        if row is None:
            error = "304 Not Modified, but no version of this URL is archived"
            _insert_fetch(con, fetch, None, error)
            return ArchiveOutcome(None, False, False, (), error)
        return _observe_known(con, fetch, int(row[0]))
    if fetch.path is None or fetch.sha256 is None:
        error = "fetch has no staged body"
        _insert_fetch(con, fetch, None, error)
        return ArchiveOutcome(None, False, False, (), error)
    known = con.execute(
        "SELECT version_id FROM crl_versions WHERE body_sha256 = $sha AND (idp_scope IS NOT NULL "
        "OR first_url = $url) ORDER BY version_id LIMIT 1",
        {"sha": fetch.sha256, "url": fetch.url},
    ).fetchone()
    if known is not None:
        return _observe_known(con, fetch, int(known[0]))
    return _archive_new(con, fetch, issuer, temp_dir)


def _observe_known(con: duckdb.DuckDBPyConnection, fetch: CrlFetch, version_id: int) -> ArchiveOutcome:
    with transaction(con):
        con.execute(
            load_sql("crl/observe_version"), {"version_id": version_id, "observed_at": fetch.observed_at}
        )
        _insert_fetch(con, fetch, version_id, None)
    return ArchiveOutcome(version_id, False, _file_kept(con, fetch.path), (), None)


def _file_kept(con: duckdb.DuckDBPyConnection, path: Path | None) -> bool:
    if path is None:
        return False
    row = con.execute(
        "SELECT count(*) FROM crl_versions WHERE raw_path = $path", {"path": str(path)}
    ).fetchone()
    return bool(row and row[0])


class _EntryStage:
    """Streams entries into the connection's temp table in batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE crl_stage_entries (serial_hex VARCHAR, revoked_at_claimed "
            "TIMESTAMPTZ, reason_code SMALLINT, invalidity_date TIMESTAMPTZ)"
        )
        self._rows: list[CrlEntry] = []

    def add(self, entry: CrlEntry) -> None:
        self._rows.append(entry)
        if len(self._rows) >= STAGE_BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        self._con.execute(
            load_sql("crl/stage_entries"),
            {
                "serial_hex": [e.serial_hex for e in rows],
                "revoked_at_claimed": [e.revoked_at for e in rows],
                # a reasonCode outside SMALLINT is kept as a finding of the scan, not as a value
                "reason_code": [e.reason_code if _fits_smallint(e.reason_code) else None for e in rows],
                "invalidity_date": [e.invalidity_date for e in rows],
            },
        )


def _fits_smallint(value: int | None) -> bool:
    return value is not None and -32768 <= value <= 32767


def _archive_new(
    con: duckdb.DuckDBPyConnection, fetch: CrlFetch, issuer: ParsedCert | None, temp_dir: Path | None
) -> ArchiveOutcome:
    assert fetch.path is not None  # checked by the caller
    stage = _EntryStage(con)
    scan = scan_crl(fetch.path, issuer=issuer, as_of=fetch.observed_at, on_entry=stage.add, temp_dir=temp_dir)
    if scan.error is not None or scan.header is None or scan.trailer is None:
        error = f"not a usable CRL: {scan.error}"
        con.execute("DROP TABLE crl_stage_entries")
        _insert_fetch(con, fetch, None, error)
        return ArchiveOutcome(None, False, False, scan.findings, error)
    stage.flush()
    header, trailer = scan.header, scan.trailer
    idp_scope = None if trailer.idp is None else trailer.idp.scope_text()
    key = partition_key(
        header.issuer_der, idp_scope, delta=trailer.delta_base_crl_number is not None, url=fetch.url
    )
    same = con.execute(
        "SELECT version_id FROM crl_versions WHERE partition_key = $key AND crl_sha256 = $sha",
        {"key": key, "sha": trailer.der_sha256},
    ).fetchone()
    if same is not None:  # the same CRL served in another encoding (PEM vs DER)
        con.execute("DROP TABLE crl_stage_entries")
        return _observe_known(con, fetch, int(same[0]))
    with transaction(con):
        version_id = _insert_version(
            con,
            fetch=fetch,
            key=key,
            header=header,
            trailer=trailer,
            entry_count=scan.entry_count,
            entry_set_digest=scan.entry_set_digest,
            issuer=issuer,
        )
        _update_runs(con, key, version_id)
        _insert_fetch(con, fetch, version_id, None)
        con.execute("DROP TABLE crl_stage_entries")
    return ArchiveOutcome(version_id, True, True, scan.findings, None)


def _insert_version(
    con: duckdb.DuckDBPyConnection,
    *,
    fetch: CrlFetch,
    key: str,
    header: CrlHeader,
    trailer: CrlTrailer,
    entry_count: int,
    entry_set_digest: str | None,
    issuer: ParsedCert | None,
) -> int:
    row = con.execute(
        load_sql("crl/insert_version"),
        {
            "partition_key": key,
            "crl_sha256": trailer.der_sha256,
            "body_sha256": fetch.sha256,
            "url": fetch.url,
            "issuer_name_der": header.issuer_der,
            "issuer_rfc4514": header.issuer_rfc4514,
            "issuer_spki_sha256": None if issuer is None else issuer.spki_sha256,
            "this_update": header.this_update,
            "next_update": header.next_update,
            "crl_number": None if trailer.crl_number is None else str(trailer.crl_number),
            "crl_number_order": crl_number_order(trailer.crl_number),
            "delta_base_crl_number": (
                None if trailer.delta_base_crl_number is None else str(trailer.delta_base_crl_number)
            ),
            "idp_scope": None if trailer.idp is None else trailer.idp.scope_text(),
            "idp_uris": [] if trailer.idp is None else list(trailer.idp.full_name_uris),
            "size_bytes": trailer.der_length,
            "entry_count": entry_count,
            "entry_set_digest": entry_set_digest,
            "signature_status": str(trailer.signature_status),
            "signature_detail": trailer.signature_detail,
            "raw_path": None if fetch.path is None else str(fetch.path),
            "observed_at": fetch.observed_at,
        },
    ).fetchone()
    assert row is not None  # INSERT ... RETURNING gives the new row
    return int(row[0])


def _update_runs(con: duckdb.DuckDBPyConnection, key: str, version_id: int) -> None:
    """Fit the staged entries of the new version into the partition's runs (see module doc)."""
    con.execute(load_sql("crl/rank_versions"), {"partition_key": key})
    ranked = dict(
        con.execute(
            "SELECT position, version_id FROM crl_versions WHERE partition_key = $key", {"key": key}
        ).fetchall()
    )
    position = next(p for p, v in ranked.items() if v == version_id)
    params: dict[str, Any] = {
        "partition_key": key,
        "v_version_id": version_id,
        "v_position": position,
        "a_version_id": ranked.get(position - 1),
        "b_version_id": ranked.get(position + 1),
    }

    def run(name: str, *names: str) -> None:
        con.execute(load_sql(f"crl/{name}"), {n: params[n] for n in names})

    if params["a_version_id"] is not None and params["b_version_id"] is not None:
        run("intervals_split_insert", "partition_key", "v_position", "b_version_id")
        run("intervals_split_update", "partition_key", "v_position", "a_version_id")
    if params["a_version_id"] is not None:
        run("intervals_extend_forward", "partition_key", "a_version_id", "v_version_id")
    if params["b_version_id"] is not None:
        run("intervals_merge_plan", "partition_key", "b_version_id", "v_version_id")
        con.execute(load_sql("crl/intervals_merge_apply"))
        con.execute(load_sql("crl/intervals_merge_delete"))
        con.execute("DROP TABLE crl_interval_merge")
        run("intervals_extend_backward", "partition_key", "b_version_id", "v_version_id")
    run("intervals_insert_new", "partition_key", "v_position", "v_version_id")


def _insert_fetch(
    con: duckdb.DuckDBPyConnection, fetch: CrlFetch, version_id: int | None, error: str | None
) -> None:
    con.execute(
        load_sql("crl/insert_fetch"),
        {
            "url": fetch.url,
            "observed_at": fetch.observed_at,
            "stamped_with_as_of": fetch.stamped_with_as_of,
            "http_status": fetch.http_status,
            "not_modified": fetch.not_modified,
            "version_id": version_id,
            "body_sha256": fetch.sha256,
            "size_bytes": fetch.size_bytes,
            "etag": fetch.etag,
            "last_modified": fetch.last_modified,
            "error": error,
        },
    )


def release_raw(con: duckdb.DuckDBPyConnection, keep_newest_per_url: int = 3) -> list[Path]:
    """Stop keeping raw files of unchanged, older versions; return the files nothing references now
    (the caller deletes them after this returns)."""
    with transaction(con):
        released = con.execute(load_sql("crl/release_raw"), {"keep_newest": keep_newest_per_url}).fetchall()
        if not released:
            return []
        con.execute(
            "UPDATE crl_versions SET raw_path = NULL WHERE list_contains($ids, version_id)",
            {"ids": [row[0] for row in released]},
        )
        still_used = {
            row[0]
            for row in con.execute(
                "SELECT DISTINCT raw_path FROM crl_versions WHERE raw_path IS NOT NULL"
            ).fetchall()
        }
    return sorted({Path(row[1]) for row in released if row[1] not in still_used})


def refresh_revocation_observations(con: duckdb.DuckDBPyConnection, partition: str | None = None) -> int:
    """Rebuild the 'crl'/'ctwatch' rows of revocation_observations from the archive (one partition
    or all); return how many rows it wrote."""
    with transaction(con):
        con.execute(load_sql("crl/refresh_observations_delete"), {"partition_key": partition})
        row = con.execute(
            load_sql("crl/refresh_observations_insert"), {"partition_key": partition}
        ).fetchone()
    return int(row[0]) if row else 0


def archive_findings(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: datetime,
    disclosed_crl_urls: Collection[str] | None = None,
    publication_window: timedelta = PUBLICATION_WINDOW,
) -> list[ArchiveFinding]:
    """Findings over the archived versions: backdating, early removal, changed values, stale CRLs
    (observed up to `as_of`), unchecked or bad signatures, and - when the disclosed URL list (CCADB)
    is given - partitions that none of its URLs names.
    """
    findings: list[ArchiveFinding] = []
    for row in query_dicts(con, "crl/find_backdated", {"publication_window": publication_window}):
        key_compromise = row["reason_code"] == CRLReason.KEY_COMPROMISE
        findings.append(
            ArchiveFinding(
                "crl_revocation_backdated_key_compromise" if key_compromise else "crl_revocation_backdated",
                Severity.NOTICE if key_compromise else Severity.ERROR,
                f"revocationDate {row['revoked_at_claimed'].isoformat()} is more than {publication_window} "
                f"before thisUpdate {row['absent_this_update'].isoformat()} of a version that did not list "
                f"it ({row['absent_crl_sha256']}); first listed by thisUpdate "
                f"{row['first_this_update'].isoformat()}",
                row["partition_key"],
                row["revoked_at_claimed"],
                row["serial_hex"],
                row["first_crl_sha256"],
            )
        )
    for row in query_dicts(con, "crl/find_removed", {}):
        not_after = row["not_after"]
        removed_at = row["removed_this_update"]
        if not_after is not None and not_after <= removed_at:
            continue  # removal after expiry is allowed (RFC 5280 3.3)
        expiry = "notAfter unknown" if not_after is None else f"notAfter {not_after.isoformat()}"
        findings.append(
            ArchiveFinding(
                "crl_serial_removed_before_expiry" if not_after is not None else "crl_serial_removed",
                Severity.ERROR if not_after is not None else Severity.WARNING,
                f"listed until thisUpdate {row['last_this_update'].isoformat()}, absent from thisUpdate "
                f"{removed_at.isoformat()} ({expiry})",
                row["partition_key"],
                removed_at,
                row["serial_hex"],
                row["removed_crl_sha256"],
            )
        )
    for row in query_dicts(con, "crl/find_changed", {}):
        changes = [
            f"{label} {_text(row['old_' + column])} -> {_text(row['new_' + column])}"
            for label, column in (
                ("revocationDate", "revoked_at"),
                ("reasonCode", "reason_code"),
                ("invalidityDate", "invalidity_date"),
            )
            if row["old_" + column] != row["new_" + column]
        ]
        findings.append(
            ArchiveFinding(
                "crl_revocation_changed",
                Severity.ERROR,
                "; ".join(changes),
                row["partition_key"],
                row["changed_this_update"],
                row["serial_hex"],
                row["changed_crl_sha256"],
            )
        )
    for row in query_dicts(con, "crl/find_stale", {"as_of": as_of}):
        findings.append(
            ArchiveFinding(
                "crl_stale",
                Severity.ERROR,
                f"{row['url']} still served it at {row['observed_at'].isoformat()}, after its nextUpdate",
                row["partition_key"],
                row["next_update"],
                crl_sha256=row["crl_sha256"],
            )
        )
    for row in query_dicts(con, "crl/find_signature", {}):
        invalid = row["signature_status"] == "invalid"
        findings.append(
            ArchiveFinding(
                "crl_signature_invalid" if invalid else "crl_signature_unverified",
                Severity.ERROR if invalid else Severity.WARNING,
                row["signature_detail"] or f"signature {row['signature_status']}",
                row["partition_key"],
                row["this_update"],
                crl_sha256=row["crl_sha256"],
            )
        )
    if disclosed_crl_urls is not None:
        disclosed = set(disclosed_crl_urls)
        for row in query_dicts(con, "crl/partition_urls", {}):
            if not disclosed.intersection(row["urls"]):
                first = con.execute(
                    "SELECT min(this_update) FROM crl_versions WHERE partition_key = $key",
                    {"key": row["partition_key"]},
                ).fetchone()
                findings.append(
                    ArchiveFinding(
                        "crl_partition_undisclosed",
                        Severity.ERROR,
                        f"no disclosed CRL URL names this partition (its URLs: {', '.join(row['urls'])})",
                        row["partition_key"],
                        first[0] if first else as_of,
                    )
                )
    return findings


def _text(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
