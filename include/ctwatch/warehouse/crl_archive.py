"""The CRL archive: every fetch observed, every distinct version described, serials as runs.

A *partition* is what one CRL series covers: its issuer plus its Issuing Distribution Point scope
(or, without IDP, the URL it is served from); a delta CRL series is its own partition. Versions of a
partition are ordered by (thisUpdate, cRLNumber, hash), never by arrival: a backfilled old version
slots in between and the runs of presence are split, extended or merged around it, so loading the
same versions in any order gives the same runs.

Storage stays small for a big CRL polled often: an identical re-fetch adds one `crl_fetches` row;
a new version adds one `crl_versions` row and only the runs that start or end; the raw file is kept
only for the newest versions of a URL and for versions whose entry set changed (`release_raw`).
The findings over the archived versions are in `crl_findings`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ctwatch.crl import CrlEntry, CrlFinding, scan_crl
from ctwatch.crl.reader import CrlHeader, CrlTrailer
from ctwatch.evidence.crl import CrlFetch, CrlValidators
from ctwatch.evidence.revocation import CRLReason
from ctwatch.warehouse._db import row_count, transaction
from ctwatch.warehouse.sqlfiles import load_sql, query_count
from ctwatch.x509 import ParsedCert

STAGE_BATCH_ROWS = 50_000
_NEGATIVE_CRL_NUMBER_OFFSET = 1 << 168  # > any 20-octet cRLNumber: keeps negatives ordered
# RFC 5280 reasonCode names, bound into refresh_observations_insert (an unknown code stays its number)
_REASON_NAMES = {"reason_code": [int(r) for r in CRLReason], "reason_name": [r.rfc_name for r in CRLReason]}


@dataclass(frozen=True, slots=True)
class ArchiveOutcome:
    """What archiving one fetch did."""

    version_id: int | None  # the version served (None when the fetch or its body failed)
    new_version: bool
    staged_file_kept: bool  # False: the caller may delete the staged file
    scan_findings: tuple[CrlFinding, ...]  # one-file findings of a new version
    error: str | None


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
    row = con.execute(load_sql("crl/latest_validators"), {"url": url}).fetchone()
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
        row = con.execute(load_sql("crl/latest_version_of_url"), {"url": fetch.url}).fetchone()
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
        load_sql("crl/find_version_by_body"), {"sha": fetch.sha256, "url": fetch.url}
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
    return query_count(con, "crl/count_raw_path_users", {"path": str(path)}) > 0


class _EntryStage:
    """Streams entries into the connection's temp table in batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        con.execute(load_sql("crl/create_stage_entries"))
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
        con.execute(load_sql("crl/drop_stage_entries"))
        _insert_fetch(con, fetch, None, error)
        return ArchiveOutcome(None, False, False, scan.findings, error)
    stage.flush()
    header, trailer = scan.header, scan.trailer
    idp_scope = None if trailer.idp is None else trailer.idp.scope_text()
    key = partition_key(
        header.issuer_der, idp_scope, delta=trailer.delta_base_crl_number is not None, url=fetch.url
    )
    same = con.execute(
        load_sql("crl/find_version_in_partition"), {"key": key, "sha": trailer.der_sha256}
    ).fetchone()
    if same is not None:  # the same CRL served in another encoding (PEM vs DER)
        con.execute(load_sql("crl/drop_stage_entries"))
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
        con.execute(load_sql("crl/drop_stage_entries"))
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
    ranked = dict(con.execute(load_sql("crl/version_positions"), {"key": key}).fetchall())
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

    run("stage_listed_runs", "partition_key")
    if params["a_version_id"] is not None and params["b_version_id"] is not None:
        run("intervals_split_insert", "partition_key", "v_position", "b_version_id")
        run("intervals_split_update", "partition_key", "v_position", "a_version_id")
    if params["a_version_id"] is not None:
        run("intervals_extend_forward", "partition_key", "a_version_id", "v_version_id")
    if params["b_version_id"] is not None:
        run("intervals_merge_plan", "partition_key", "b_version_id", "v_version_id")
        con.execute(load_sql("crl/intervals_merge_apply"))
        con.execute(load_sql("crl/intervals_merge_delete"))
        con.execute(load_sql("crl/drop_interval_merge"))
        run("intervals_extend_backward", "partition_key", "b_version_id", "v_version_id")
    run("intervals_insert_new", "partition_key", "v_position", "v_version_id")
    con.execute(load_sql("crl/drop_listed_runs"))


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
        con.execute(load_sql("crl/forget_raw_paths"), {"ids": [row[0] for row in released]})
        still_used = {row[0] for row in con.execute(load_sql("crl/raw_paths_in_use")).fetchall()}
    return sorted({Path(row[1]) for row in released if row[1] not in still_used})


def refresh_revocation_observations(con: duckdb.DuckDBPyConnection, partition: str | None = None) -> int:
    """Rebuild the 'crl'/'ctwatch' rows of revocation_observations from the archive (one partition
    or all); return how many rows it wrote."""
    with transaction(con):
        con.execute(load_sql("crl/refresh_observations_delete"), {"partition_key": partition})
        params = {"partition_key": partition, **_REASON_NAMES}
        return row_count(con.execute(load_sql("crl/refresh_observations_insert"), params))
