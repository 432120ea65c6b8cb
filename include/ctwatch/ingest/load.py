"""The load step: staged ranges into the warehouse, rows and coverage in one transaction per group.

A range whose coverage overlaps what is stored already was loaded before (a retried task, a killed
run re-planned): it is skipped as a whole, so nothing is stored twice. Ranges are grouped until a
group holds `GROUP_LEAF_ROWS` leaf rows, so inserts run in large batches. Every chain certificate's
earliest sighting per log (entry, CT timestamp, covering head) is kept with the minimum winning, so
the first CT time does not depend on the order ranges are loaded in. After the commit, the rules run
over the CA certificates the load stored for the first time. The evidence of refused
ranges (failure files) is stored by one statement of its own: such a range has no rows.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from ctwatch import rules, warehouse
from ctwatch.ingest.evidence import failure_files, locally_failed_logs, to_record
from ctwatch.ingest.health import record_log_health
from ctwatch.ingest.model import PLAN_FILE, Plan, StagedRange, TreeHead, VerificationFailure, read_msgpack
from ctwatch.warehouse import ct_store
from ctwatch.x509 import CertError, ParsedCert, analyse_der

log = logging.getLogger(__name__)
GROUP_LEAF_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class LoadSummary:
    ranges_loaded: int
    ranges_skipped: int  # already covered
    entries: int
    leaf_rows: int
    new_certificates: int
    certificate_errors: int
    entry_errors: int
    findings: int
    cpu_s: float  # of this load
    fetch_cpu_s: dict[str, float]  # per fetch stage, summed over the loaded ranges
    verification_failures: int = 0  # refused ranges whose evidence this load stored
    logs_advanced: frozenset[str] = frozenset()  # hex ids of the logs with a range loaded

    @classmethod
    def empty(cls) -> LoadSummary:
        return cls(0, 0, 0, 0, 0, 0, 0, 0, 0.0, {})


def load_ranges(
    warehouse_file: Path,
    staged_paths: Iterable[Path],
    *,
    as_of: datetime,
    run_dir: Path | None = None,
    logs_advanced: Collection[str] = (),
) -> LoadSummary:
    """The load step: staged ranges loaded (rows and coverage per transaction), then the staged files
    deleted. With the run's staging folder `run_dir` (the run is over), also store the evidence of
    the ranges its fetch tasks refused and each log's health (`logs_advanced`: logs an earlier load
    of the run advanced), then delete the whole folder."""
    paths = [Path(p) for p in staged_paths]
    # A staged file is deleted only once its range is committed: one that is gone was loaded by an
    # earlier try of this task, killed after its commit (and were it lost otherwise, the range stays
    # uncovered and the next run's plan fetches it again).
    gone = [path for path in paths if not path.exists()]
    if gone:
        log.info("%d of %d staged ranges already loaded by an earlier try", len(gone), len(paths))
        paths = [path for path in paths if path.exists()]
    failures = failure_files(run_dir) if run_dir is not None else []
    failed_here = locally_failed_logs(run_dir) if run_dir is not None else set()
    plan_file = run_dir / PLAN_FILE if run_dir is not None else None
    plan = read_msgpack(plan_file, Plan) if plan_file is not None and plan_file.exists() else None
    summary = LoadSummary.empty()
    if paths or failures or plan is not None:
        con = warehouse.connect(warehouse_file)
        try:
            with warehouse.naming_trouble(warehouse_file):
                if paths or failures:
                    summary = load_staged_ranges(con, paths, as_of=as_of, failure_paths=failures)
                if plan is not None:
                    refused = [read_msgpack(path, VerificationFailure) for path in failures]
                    advanced = {*summary.logs_advanced, *logs_advanced}
                    record_log_health(con, plan, advanced, refused, failed_here)
        finally:
            con.close()
        log.info(
            "loaded %d ranges (%d already covered): %d entries, %d watched leaf rows, %d new certificates, "
            "%d findings, %d bad entries, %d refused ranges, %.2f CPU-s",
            summary.ranges_loaded,
            summary.ranges_skipped,
            summary.entries,
            summary.leaf_rows,
            summary.new_certificates,
            summary.findings,
            summary.entry_errors,
            summary.verification_failures,
            summary.cpu_s,
        )
    for path in [*paths, *failures]:
        path.unlink(missing_ok=True)
    if run_dir is not None:
        shutil.rmtree(run_dir, ignore_errors=True)
    return summary


def _overlaps(covered: Sequence[tuple[int, int]], start: int, end_exclusive: int) -> bool:
    return any(low < end_exclusive and start < high for low, high in covered)


def load_staged_ranges(
    con: duckdb.DuckDBPyConnection,
    staged_paths: Iterable[Path],
    *,
    as_of: datetime,
    failure_paths: Iterable[Path] = (),
) -> LoadSummary:
    """Load staged range files (any order, any logs) and the evidence of refused ranges; evaluate
    rules on new CA certificates as of `as_of`."""
    started = time.process_time()
    refused = [to_record(read_msgpack(path, VerificationFailure)) for path in failure_paths]
    stored_failures = ct_store.store_verification_failures(con, refused)  # one statement: atomic
    ranges = sorted(
        (read_msgpack(path, StagedRange) for path in staged_paths), key=lambda r: (r.log_id, r.start)
    )
    total = _GroupOutcome()
    group: list[StagedRange] = []
    group_rows = 0
    for position, staged in enumerate(ranges):
        group.append(staged)
        group_rows += len(staged.leaves.entry_index)
        if group_rows >= GROUP_LEAF_ROWS or position == len(ranges) - 1:
            total.add(_load_group(con, group))
            group, group_rows = [], 0
    findings = evaluate_new_certificates(con, total.new_certs, as_of=as_of)
    return LoadSummary(
        ranges_loaded=total.loaded,
        ranges_skipped=total.skipped,
        entries=total.entries,
        leaf_rows=total.leaf_rows,
        new_certificates=len(total.new_certs),
        certificate_errors=total.cert_errors,
        entry_errors=total.entry_errors,
        findings=findings,
        cpu_s=time.process_time() - started,
        fetch_cpu_s=total.fetch_cpu_s,
        verification_failures=stored_failures,
        logs_advanced=frozenset(total.logs_advanced),
    )


@dataclass(slots=True)
class _GroupOutcome:
    loaded: int = 0
    skipped: int = 0
    entries: int = 0
    leaf_rows: int = 0
    cert_errors: int = 0
    entry_errors: int = 0
    new_certs: list[ParsedCert] = field(default_factory=list)
    fetch_cpu_s: dict[str, float] = field(default_factory=dict)
    logs_advanced: set[str] = field(default_factory=set)

    def add(self, other: _GroupOutcome) -> None:
        self.logs_advanced |= other.logs_advanced
        for stage, seconds in other.fetch_cpu_s.items():
            self.fetch_cpu_s[stage] = self.fetch_cpu_s.get(stage, 0.0) + seconds
        self.loaded += other.loaded
        self.skipped += other.skipped
        self.entries += other.entries
        self.leaf_rows += other.leaf_rows
        self.cert_errors += other.cert_errors
        self.entry_errors += other.entry_errors
        self.new_certs.extend(other.new_certs)


def _load_group(con: duckdb.DuckDBPyConnection, group: Sequence[StagedRange]) -> _GroupOutcome:
    """One transaction: the group's ranges not covered yet, with their rows."""
    outcome = _GroupOutcome()
    with warehouse.transaction(con):
        covered = ct_store.coverage(con, {staged.log_id.hex() for staged in group})
        heads: dict[tuple[str, int, bytes], ct_store.TreeHeadRecord] = {}
        ranges: list[ct_store.CoveredRange] = []
        leaves = ct_store.LeafColumns()
        counts: list[ct_store.DailyCount] = []
        errors: list[ct_store.EntryError] = []
        first_seen: dict[bytes, str] = {}  # chain DER -> 'ct:<log>:<index>' of its first sight
        der_sha256: dict[bytes, str] = {}
        sightings: list[ct_store.CtSighting] = []
        for staged in group:
            log_id = staged.log_id.hex()
            if _overlaps(covered[log_id], staged.start, staged.end_exclusive):
                outcome.skipped += 1
                continue
            covered[log_id].append((staged.start, staged.end_exclusive))
            outcome.logs_advanced.add(log_id)
            head = staged.tree_head
            heads[(log_id, head.tree_size, head.root_hash)] = head_record(log_id, head)
            ranges.append(
                ct_store.CoveredRange(
                    log_id,
                    staged.start,
                    staged.end_exclusive,
                    head.tree_size,
                    head.timestamp_ms,
                    head.root_hash,
                )
            )
            _extend_leaves(leaves, log_id, staged)
            counts.extend(
                ct_store.DailyCount(log_id, c.issuer_spki_sha256, c.day, c.precert, c.entries)
                for c in staged.counts
            )
            errors.extend(
                ct_store.EntryError(log_id, e.entry_index, e.leaf_hash, e.error) for e in staged.errors
            )
            for cert in staged.certs:
                first_seen.setdefault(cert.der, f"ct:{log_id}:{cert.first_index}")
                sha = der_sha256.get(cert.der)
                if sha is None:
                    sha = der_sha256[cert.der] = hashlib.sha256(cert.der).hexdigest()
                sightings.append(
                    ct_store.CtSighting(
                        sha,
                        log_id,
                        cert.earliest_index,
                        cert.earliest_timestamp_ms,
                        head.tree_size,
                        head.timestamp_ms,
                        head.root_hash,
                    )
                )
            outcome.loaded += 1
            outcome.entries += staged.end_exclusive - staged.start
            for stage, seconds in staged.cpu_s.items():
                outcome.fetch_cpu_s[stage] = outcome.fetch_cpu_s.get(stage, 0.0) + seconds
        outcome.new_certs, outcome.cert_errors = _store_new_certificates(con, first_seen, der_sha256)
        ct_store.record_sightings(con, sightings)
        ct_store.store_tree_heads(con, list(heads.values()))
        outcome.leaf_rows = ct_store.store_leaves(con, leaves)
        ct_store.add_daily_counts(con, counts)
        outcome.entry_errors = ct_store.store_entry_errors(con, errors)
        ct_store.add_coverage(con, ranges)
    return outcome


def head_record(log_id: str, head: TreeHead) -> ct_store.TreeHeadRecord:
    """A verified tree head as the warehouse stores it."""
    return ct_store.TreeHeadRecord(
        log_id, head.tree_size, head.timestamp_ms, head.root_hash, head.signature, head.signature_format
    )


def _extend_leaves(leaves: ct_store.LeafColumns, log_id: str, staged: StagedRange) -> None:
    rows = staged.leaves
    leaves.log_id.extend([log_id] * len(rows.entry_index))
    leaves.entry_index.extend(rows.entry_index)
    leaves.timestamp_ms.extend(rows.timestamp_ms)
    leaves.leaf_hash.extend(rows.leaf_hash)
    leaves.precert.extend(rows.precert)
    leaves.issuer_spki_sha256.extend(rows.issuer_spki_sha256)
    leaves.serial.extend(rows.serial)
    leaves.not_before_s.extend(rows.not_before_s)
    leaves.not_after_s.extend(rows.not_after_s)


def _store_new_certificates(
    con: duckdb.DuckDBPyConnection, first_seen: dict[bytes, str], der_sha256: dict[bytes, str]
) -> tuple[list[ParsedCert], int]:
    """Analyse and store the chain certificates the warehouse does not hold; record the undecodable."""
    by_sha = {der_sha256[der]: der for der in first_seen}
    stored = ct_store.stored_der_sha256(con, by_sha)
    new: list[ParsedCert] = []
    failed: list[tuple[CertError, str]] = []
    by_source: dict[str, list[ParsedCert]] = {}
    for sha, der in by_sha.items():
        if sha in stored:
            continue
        result = analyse_der(der)
        if isinstance(result, CertError):
            failed.append((result, first_seen[der]))
            continue
        by_source.setdefault(first_seen[der], []).append(result)
        new.append(result)
    for source, certs in by_source.items():
        warehouse.store_certificates(con, certs, source=source)
    return new, warehouse.record_parse_errors(con, failed)


def evaluate_new_certificates(
    con: duckdb.DuckDBPyConnection, certs: Sequence[ParsedCert], *, as_of: datetime
) -> int:
    """Run the rules over newly stored certificates (cross-certificate flags recomputed first) and
    record the findings as of `as_of`; return how many findings there are."""
    if not certs:
        return 0
    warehouse.mark_cross_certificates(con)
    flags = ct_store.cross_certificate_flags(con, [cert.der_sha256 for cert in certs])
    findings: list[rules.Finding] = []
    for cert in certs:
        context = rules.RuleContext(is_cross_certificate=flags.get(cert.der_sha256, False))
        findings.extend(rules.evaluate(cert, as_of=as_of, context=context))
    warehouse.store_findings(
        con, findings, as_of=as_of, evaluated_der_sha256=[cert.der_sha256 for cert in certs]
    )
    log.info("evaluated %d new CA certificates: %d findings", len(certs), len(findings))
    return len(findings)
