"""The CRLs of watched issuers, in three steps so the network never holds the warehouse:

1. `plan_crl_fetches` (warehouse): the CDP URLs of certificates with open rule findings and the CRL
   URLs CCADB discloses for their issuers, plus the CRLs CCADB discloses for the issuing CAs of
   declared plans (their leaves' revocations), each with the issuer certificate expected to sign it
   and the validators of its last fetch (conditional GET).
2. `fetch_crls` (network only): every planned CRL streamed to a staged file under the CRL folder; a
   manifest file describes the fetches.
3. `archive_crls` (warehouse): each fetch archived (signature checked against the issuer), raw files
   released per policy, the 'crl' observations rebuilt, and the archive
   findings evaluated as of the run's as-of (with CCADB's disclosed URLs) and stored.

URLs are kept as the certificate or CCADB names them; `SourceLocations.rewrite` only says where to
send the request (the simulator). Stamps follow sources.crl: the as-of travels (and stamps the
answer) only when the sources are a simulator.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import requests

from ctwatch import warehouse
from ctwatch.evidence.crl import CrlFetch, CrlValidators
from ctwatch.evidence.health import SourceCheck
from ctwatch.revocation.config import Source, SourceLocations
from ctwatch.sources.crl import fetch_crl
from ctwatch.sources.staging import StagingError
from ctwatch.timeutil import parse_utc, require_aware
from ctwatch.warehouse import observations, source_health
from ctwatch.warehouse.crl_archive import (
    archive_fetch,
    latest_validators,
    refresh_revocation_observations,
    release_raw,
)
from ctwatch.warehouse.crl_findings import archive_findings
from ctwatch.x509 import ParsedCert, analyse_der

KEEP_NEWEST_RAW_PER_URL = 3


@dataclass(frozen=True, slots=True)
class CrlTarget:
    """One CRL to fetch: its URL as named, who should have signed it, and where the URL came from."""

    url: str
    issuer_der_sha256: str | None
    origins: tuple[str, ...]  # 'cdp' (a watched certificate), 'ccadb' (disclosed by CCADB), 'plan'
    validators: CrlValidators | None = None


@dataclass(frozen=True, slots=True)
class StagedCrl:
    """A fetch of a target, its body (if any) staged on disk."""

    target: CrlTarget
    fetch: CrlFetch


@dataclass(frozen=True, slots=True)
class CrlArchiveSummary:
    fetches: int
    new_versions: int
    not_modified: int
    errors: tuple[str, ...]
    released_raw_files: int
    observations: int  # 'crl' rows rebuilt
    findings_found: int
    findings_opened: int
    findings_resolved: int


@dataclass(frozen=True, slots=True)
class PlanCrlScope:
    """The issuing CAs of declared plans, whose own CRLs list their leaves: by key, and by the
    incidents whose members' keys count."""

    issuer_keys: tuple[str, ...] = ()
    incident_ids: tuple[str, ...] = ()


def plan_crl_fetches(
    warehouse_file: Path, *, as_of: datetime, plans: PlanCrlScope = PlanCrlScope()
) -> list[CrlTarget]:
    """The CRLs of watched issuers and of the plans' issuing CAs (module doc), with the validators
    of their last good fetch."""
    require_aware(as_of, "as_of")
    con = warehouse.connect(warehouse_file)
    try:
        params = {
            "as_of": as_of,
            "plan_issuer_keys": list(plans.issuer_keys),
            "plan_incident_ids": list(plans.incident_ids),
        }
        rows = con.execute(warehouse.load_sql("sources/crl_targets"), params).fetchall()
        return [
            CrlTarget(url, issuer, tuple(origins), latest_validators(con, url))
            for url, issuer, origins in rows
        ]
    finally:
        con.close()


def fetch_crls(
    targets: Sequence[CrlTarget],
    crl_dir: Path,
    locations: SourceLocations,
    *,
    as_of: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[StagedCrl]:
    """GET every target (conditionally when validators are known) into `crl_dir`, one request per
    1 / requests_per_second. Failures are fetch records with their error, never exceptions, but for
    a staged file that cannot be written (StagingError): then the files this call staged are removed
    again, so a full disk is not left fuller, and the error is raised."""
    sent_as_of = as_of if locations.simulated else None
    endpoint = locations.endpoint(Source.CRL)
    interval_s = 1.0 / endpoint.requests_per_second
    staged: list[StagedCrl] = []
    # an identical body lands on the file of an archived version: that one must stay
    kept_before = set(crl_dir.glob("*.crl"))
    try:
        with requests.Session() as session:
            for number, target in enumerate(targets):
                if number:
                    sleep(interval_s)
                fetch = fetch_crl(
                    locations.rewrite(target.url),
                    crl_dir,
                    previous=target.validators,
                    as_of=sent_as_of,
                    max_bytes=endpoint.max_body_bytes,
                    timeout_s=endpoint.timeout_s,
                    deadline_s=endpoint.response_deadline_s,
                    session=session,
                )
                staged.append(StagedCrl(target, dataclasses.replace(fetch, url=target.url)))
    except StagingError:
        _remove_staged(staged, kept_before)
        raise
    return staged


def _remove_staged(staged: Sequence[StagedCrl], kept_before: set[Path]) -> None:
    for item in staged:
        if item.fetch.path is not None and item.fetch.path not in kept_before:
            item.fetch.path.unlink(missing_ok=True)


def archive_crls(
    warehouse_file: Path,
    staged: Sequence[StagedCrl],
    *,
    as_of: datetime,
    crl_dir: Path,
    keep_newest_raw_per_url: int = KEEP_NEWEST_RAW_PER_URL,
) -> CrlArchiveSummary:
    """Archive the fetches, release raw files, rebuild observations, evaluate and store findings."""
    require_aware(as_of, "as_of")
    new_versions = not_modified = 0
    errors: list[str] = []
    checks: list[SourceCheck] = []
    any_served = False
    con = warehouse.connect(warehouse_file)
    try:
        with warehouse.naming_trouble(warehouse_file):
            issuers: dict[str, ParsedCert | None] = {}
            for item in staged:
                issuer = _issuer(con, item.target.issuer_der_sha256, issuers)
                outcome = archive_fetch(con, item.fetch, issuer=issuer, temp_dir=crl_dir)
                if item.fetch.path is not None and not outcome.staged_file_kept:
                    item.fetch.path.unlink(missing_ok=True)
                checks.append(
                    SourceCheck(str(Source.CRL), item.target.url, item.fetch.observed_at, outcome.error)
                )
                if outcome.error is not None:
                    errors.append(f"{item.target.url}: {outcome.error}")
                    continue
                any_served = True
                new_versions += int(outcome.new_version)
                not_modified += int(item.fetch.not_modified)
            source_health.record_checks(con, checks)
            released = release_raw(con, keep_newest_raw_per_url)
            # every fetched partition has a new last observation; rebuilding all in one statement costs
            # about what one partition does, and each run fetches nearly every partition anyway
            written = refresh_revocation_observations(con) if any_served else 0
            row = con.execute(warehouse.load_sql("sources/disclosed_crl_urls"), {"as_of": as_of}).fetchone()
            disclosed = None if row is None else list(row[0])
            findings = archive_findings(con, as_of=as_of, disclosed_crl_urls=disclosed)
            stored = observations.store_crl_findings(con, findings, as_of)
    finally:
        con.close()
    for path in released:  # after the commit: the archive no longer names them
        path.unlink(missing_ok=True)
    return CrlArchiveSummary(
        fetches=len(staged),
        new_versions=new_versions,
        not_modified=not_modified,
        errors=tuple(errors),
        released_raw_files=len(released),
        observations=written,
        findings_found=stored.found,
        findings_opened=stored.opened,
        findings_resolved=stored.resolved,
    )


def plan_crls(
    warehouse_file: Path, *, as_of: datetime, plans: PlanCrlScope = PlanCrlScope()
) -> list[dict[str, Any]]:
    """The DAG's plan task: `plan_crl_fetches` in the JSON form `stage_crls` reads (XCom)."""
    return targets_to_json(plan_crl_fetches(warehouse_file, as_of=as_of, plans=plans))


def stage_crls(
    targets: Sequence[dict[str, Any]],
    crl_dir: Path,
    locations: SourceLocations,
    *,
    as_of: datetime,
    manifest_name: str,
) -> Path:
    """The DAG's fetch task: fetch the planned targets (`targets_to_json` form) and write the
    manifest the archive task reads; returns the manifest path. Opens no warehouse."""
    kept_before = set(crl_dir.glob("*.crl"))
    staged = fetch_crls(targets_from_json(targets), crl_dir, locations, as_of=as_of)
    try:
        return write_manifest(staged, crl_dir, name=manifest_name)
    except StagingError:
        _remove_staged(staged, kept_before)
        raise


def archive_manifest(
    warehouse_file: Path, manifest: Path, *, as_of: datetime, crl_dir: Path
) -> CrlArchiveSummary:
    """The DAG's archive task: archive what `stage_crls` fetched, then drop the manifest."""
    summary = archive_crls(warehouse_file, read_manifest(manifest), as_of=as_of, crl_dir=crl_dir)
    manifest.unlink(missing_ok=True)
    return summary


def ingest_crls(
    warehouse_file: Path,
    locations: SourceLocations,
    crl_dir: Path,
    *,
    as_of: datetime,
    plans: PlanCrlScope = PlanCrlScope(),
) -> CrlArchiveSummary:
    """Plan, fetch and archive in one call, in this process; the DAG runs the steps as tasks."""
    targets = plan_crl_fetches(warehouse_file, as_of=as_of, plans=plans)
    staged = fetch_crls(targets, crl_dir, locations, as_of=as_of)
    return archive_crls(warehouse_file, staged, as_of=as_of, crl_dir=crl_dir)


def _issuer(
    con: duckdb.DuckDBPyConnection, der_sha256: str | None, cache: dict[str, ParsedCert | None]
) -> ParsedCert | None:
    if der_sha256 is None:
        return None
    if der_sha256 not in cache:
        row = con.execute(warehouse.load_sql("sources/crl_issuer"), {"sha": der_sha256}).fetchone()
        parsed = None if row is None else analyse_der(bytes(row[0]))
        cache[der_sha256] = parsed if isinstance(parsed, ParsedCert) else None
    return cache[der_sha256]


# -- the staged manifest: how the fetch task hands its work to the archive task (XCom carries paths) --


def targets_to_json(targets: Sequence[CrlTarget]) -> list[dict[str, Any]]:
    return [_target_json(t) for t in targets]


def targets_from_json(items: Sequence[dict[str, Any]]) -> list[CrlTarget]:
    return [_target_from_json(item) for item in items]


def write_manifest(staged: Sequence[StagedCrl], crl_dir: Path, *, name: str) -> Path:
    """Write the fetch records as `crl_dir/manifests/<name>.json` (whole or not at all: a temporary
    file renamed); return its path. Raises StagingError if it cannot be written."""
    folder = crl_dir / "manifests"
    path = folder / f"{name}.json"
    temporary = folder / f".{name}.json.tmp"
    items = [{"target": _target_json(s.target), "fetch": _fetch_json(s.fetch)} for s in staged]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(items, indent=1, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StagingError(folder, path, exc) from exc
    return path


def read_manifest(path: Path) -> list[StagedCrl]:
    items = json.loads(path.read_text(encoding="utf-8"))
    return [StagedCrl(_target_from_json(i["target"]), _fetch_from_json(i["fetch"])) for i in items]


def _target_json(target: CrlTarget) -> dict[str, Any]:
    validators = target.validators
    return {
        "url": target.url,
        "issuer_der_sha256": target.issuer_der_sha256,
        "origins": list(target.origins),
        "etag": None if validators is None else validators.etag,
        "last_modified": None if validators is None else validators.last_modified,
    }


def _target_from_json(item: dict[str, Any]) -> CrlTarget:
    has_validators = item["etag"] is not None or item["last_modified"] is not None
    return CrlTarget(
        url=item["url"],
        issuer_der_sha256=item["issuer_der_sha256"],
        origins=tuple(item["origins"]),
        validators=CrlValidators(item["etag"], item["last_modified"]) if has_validators else None,
    )


def _fetch_json(fetch: CrlFetch) -> dict[str, Any]:
    item = dataclasses.asdict(fetch)
    item["observed_at"] = fetch.observed_at.astimezone(UTC).isoformat()
    item["path"] = None if fetch.path is None else str(fetch.path)
    return item


def _fetch_from_json(item: dict[str, Any]) -> CrlFetch:
    return CrlFetch(
        **{
            **item,
            "observed_at": parse_utc(item["observed_at"]),
            "path": None if item["path"] is None else Path(item["path"]),
        }
    )
