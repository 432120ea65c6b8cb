"""Ingestion units of work: one call per Airflow task of `ingest_ct_logs`, and `ingest_once` (all of
them in one process: the command line, the benchmark, the kill -9 test).

discover_logs (network)  -> plan_ranges (warehouse)  -> fetch_range x N (network, staging files)
                         -> load_ranges (warehouse: rows + coverage per transaction, then the rules)

A head or range refused on the way (bad signature, no consistency with the stored head, a range
that does not prove, a log that cannot be read) becomes a ct_verification_failures row: discovery's
and consistency's in the plan transaction, a range's in the load (see `ctwatch.ingest.evidence`).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import requests

from ctwatch import warehouse
from ctwatch.ct.merkle import ProofError
from ctwatch.ct.signatures import SignatureError
from ctwatch.ingest.bisect import bisect_window
from ctwatch.ingest.evidence import describe_failure, failure_files, failure_path, observed_at, to_record
from ctwatch.ingest.load import LoadSummary, load_staged_ranges
from ctwatch.ingest.model import (
    CONSISTENCY,
    FETCH,
    RANGE_PROOF,
    LogEndpoint,
    Plan,
    PlannedLog,
    TreeHead,
    VerificationFailure,
    read_msgpack,
    write_atomically,
)
from ctwatch.ingest.plan import MAX_RANGES, MIN_RANGE_ENTRIES, PlannedRange, split_gaps, uncovered
from ctwatch.ingest.readers import open_reader
from ctwatch.ingest.reduce import RangeReducer
from ctwatch.sources.http import FetchError, HttpClient, Politeness
from ctwatch.sources.loglist import READABLE_STATES, LogApi, LogListError, parse_log_list
from ctwatch.warehouse import ct_store

log = logging.getLogger(__name__)
START_AT_HEAD = "head"
START_AT_ORIGIN = "origin"
DISCOVERY_FILE = "discovery.msgpack"
PLAN_FILE = "plan.msgpack"
_LOG_FAILURES = (FetchError, SignatureError, ProofError, ValueError, LookupError)


@dataclass(frozen=True)
class IngestConfig:
    """What to ingest and how. `log_list` is a file path or an http(s) URL of a v3 log list."""

    log_list: str
    new_logs_start: str = START_AT_HEAD  # a log seen for the first time is followed from its head
    log_ids: tuple[str, ...] = ()  # hex LogIDs to read (empty: every readable log of the list)
    watched_spki_sha256: tuple[str, ...] = ()
    watched_der_sha256: tuple[str, ...] = ()
    backfill_window: tuple[datetime, datetime] | None = None  # [start, end): bisect instead of follow
    batch_size: int = 1000
    requests_per_second: float = 20.0
    concurrency: int = 2
    min_range_entries: int = MIN_RANGE_ENTRIES
    max_ranges: int = MAX_RANGES
    # Sent as the simulator's as-of header, so a test can read a log as it was at that time.
    request_as_of: datetime | None = None

    def __post_init__(self) -> None:
        if self.new_logs_start not in (START_AT_HEAD, START_AT_ORIGIN):
            raise ValueError(f"new_logs_start must be {START_AT_HEAD!r} or {START_AT_ORIGIN!r}")

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], *, backfill_window: tuple[datetime, datetime] | None = None
    ) -> IngestConfig:
        """A config from plain values (DAG params, JSON); unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown ingestion settings: {sorted(unknown)}")
        tuples = {"log_ids", "watched_spki_sha256", "watched_der_sha256"}
        settings: dict[str, Any] = {
            key: tuple(value) if key in tuples else value for key, value in values.items()
        }
        if backfill_window is not None:
            settings["backfill_window"] = backfill_window
        return cls(**settings)

    @property
    def politeness(self) -> Politeness:
        return Politeness(self.batch_size, self.requests_per_second, self.concurrency)


def _read_log_list(source: str) -> bytes:
    if source.startswith(("https://", "http://")):
        http = HttpClient(Politeness())
        try:
            return http.get(source, bytes)
        finally:
            http.close()
    return Path(source).read_bytes()


def discover_logs(config: IngestConfig, run_dir: Path) -> Path:
    """Read the log list and each log's verified head (and, for a backfill, the window's index range
    by timestamp bisection); write them to `run_dir`. A log that fails is left out, its failure
    logged and kept in the discovery file for `plan_ranges` to store."""
    try:
        log_list = parse_log_list(_read_log_list(config.log_list))
    except (OSError, requests.RequestException, FetchError, LogListError) as exc:
        raise RuntimeError(f"cannot read the log list {config.log_list}: {exc}") from exc
    for problem in log_list.problems:
        log.warning("log list %s: %s", config.log_list, problem)
    wanted = {value.lower() for value in config.log_ids}
    planned: list[PlannedLog] = []
    failures: list[VerificationFailure] = []
    for ct_log in log_list.logs:
        if ct_log.state not in READABLE_STATES or (wanted and ct_log.log_id.hex() not in wanted):
            continue
        endpoint = LogEndpoint(
            log_id=ct_log.log_id,
            api=ct_log.api.value,
            url=ct_log.url,
            submission_url=ct_log.submission_url,
            key_der=ct_log.key_der,
            description=ct_log.description,
            mmd_s=ct_log.mmd_s,
        )
        try:
            planned.append(_discover(endpoint, config))
        except _LOG_FAILURES as exc:
            log.error("%s (%s): skipped this run: %s", endpoint.description, endpoint.url, exc)
            failures.append(
                describe_failure(exc, endpoint, observed_at(config.request_as_of), proof_kind=FETCH)
            )
    discovery = Plan(
        logs=planned,
        watched_spki_sha256=sorted(v.lower() for v in config.watched_spki_sha256),
        watched_der_sha256=sorted(v.lower() for v in config.watched_der_sha256),
        batch_size=config.batch_size,
        requests_per_second=config.requests_per_second,
        concurrency=config.concurrency,
        request_as_of=config.request_as_of,
        failures=failures,
    )
    return write_atomically(run_dir / DISCOVERY_FILE, discovery)


def _discover(endpoint: LogEndpoint, config: IngestConfig) -> PlannedLog:
    """The log's verified head and, for a backfill, the index range of the window."""
    reader = open_reader(endpoint, config.politeness, as_of=config.request_as_of)
    try:
        head = reader.tree_head()
        log.info("%s: verified tree head of size %d", endpoint.description, head.tree_size)
        if config.backfill_window is None:
            return PlannedLog(endpoint, head)
        start, end = config.backfill_window
        found = bisect_window(
            lambda index: reader.timestamp_ms_at(index, head),
            head.tree_size,
            int(start.timestamp() * 1000),
            int(end.timestamp() * 1000),
            endpoint.mmd_s * 1000,
        )
    finally:
        reader.close()
    log.info(
        "%s: window [%s, %s) lies in entries [%d, %d) (%d entries read)",
        endpoint.description,
        start.isoformat(),
        end.isoformat(),
        found.start,
        found.end_exclusive,
        found.probes,
    )
    return PlannedLog(endpoint, head, (found.start, found.end_exclusive))


def plan_ranges(
    warehouse_file: Path,
    discovery_file: Path,
    *,
    new_logs_start: str = START_AT_HEAD,
    min_range_entries: int = MIN_RANGE_ENTRIES,
    max_ranges: int = MAX_RANGES,
) -> list[dict[str, int | str]]:
    """Plan the index ranges to fetch: per log, what lies between its follow start (or backfill
    window) and its verified head and is not covered yet. New logs start following here; refused
    heads (discovery's, and heads not consistent with the stored one) are stored as evidence. Writes
    the plan file beside the discovery file; returns the fetch jobs (plan path, log, start, end)."""
    discovery = read_msgpack(discovery_file, Plan)
    con = warehouse.connect(warehouse_file)
    try:
        consistent, refused = _consistent_logs(con, discovery)
        with warehouse.transaction(con):
            ct_store.store_verification_failures(con, [to_record(f) for f in [*discovery.failures, *refused]])
            follow = ct_store.follow_from(con)
            for planned in consistent:
                log_id = planned.log.log_id.hex()
                if log_id not in follow:
                    start = 0 if new_logs_start == START_AT_ORIGIN else planned.tree_head.tree_size
                    ct_store.start_following(
                        con, _head_record(planned), start, planned.log.url, planned.log.description
                    )
                    follow[log_id] = start
            covered = ct_store.coverage(con, [p.log.log_id.hex() for p in consistent])
            watched = set(discovery.watched_spki_sha256) | set(ct_store.watched_issuer_keys(con))
    finally:
        con.close()
    gaps: dict[int, list[tuple[int, int]]] = {}
    for position, planned in enumerate(consistent):
        log_id = planned.log.log_id.hex()
        low, high = planned.window or (follow[log_id], planned.tree_head.tree_size)
        gaps[position] = uncovered(low, min(high, planned.tree_head.tree_size), covered[log_id])
    alignment = {p: 256 for p, planned in enumerate(consistent) if planned.log.api == LogApi.STATIC_CT}
    ranges = split_gaps(gaps, min_range_entries=min_range_entries, max_ranges=max_ranges, alignment=alignment)
    plan = Plan(
        logs=consistent,
        watched_spki_sha256=sorted(watched),
        watched_der_sha256=discovery.watched_der_sha256,
        batch_size=discovery.batch_size,
        requests_per_second=discovery.requests_per_second,
        concurrency=discovery.concurrency,
        request_as_of=discovery.request_as_of,
    )
    plan_file = write_atomically(discovery_file.with_name(PLAN_FILE), plan)
    for position, planned in enumerate(consistent):
        mine = [r for r in ranges if r.log_position == position]
        log.info(
            "%s: head %d, %d entries uncovered, planned %d ranges (%d entries)",
            planned.log.description,
            planned.tree_head.tree_size,
            sum(high - low for low, high in gaps[position]),
            len(mine),
            sum(r.end_exclusive - r.start for r in mine),
        )
    return [_job(plan_file, r) for r in ranges]


def _job(plan_file: Path, planned: PlannedRange) -> dict[str, int | str]:
    return {
        "plan_file": str(plan_file),
        "log_position": planned.log_position,
        "start": planned.start,
        "end_exclusive": planned.end_exclusive,
    }


def _consistent_logs(
    con: duckdb.DuckDBPyConnection, discovery: Plan
) -> tuple[list[PlannedLog], list[VerificationFailure]]:
    """The discovered logs whose new head is consistent with the largest head stored for them, and
    the evidence for those whose head is not."""
    latest = ct_store.latest_tree_heads(con)
    kept: list[PlannedLog] = []
    refused: list[VerificationFailure] = []
    for planned in discovery.logs:
        previous = latest.get(planned.log.log_id.hex())
        if previous is not None:
            politeness = Politeness(discovery.batch_size, discovery.requests_per_second)
            reader = open_reader(planned.log, politeness, as_of=discovery.request_as_of)
            try:
                reader.prove_extends(_tree_head(previous), planned.tree_head)
            except _LOG_FAILURES as exc:
                log.error(
                    "%s: head %d (root %s) is not proven consistent with the stored head %d (root %s): %s",
                    planned.log.description,
                    planned.tree_head.tree_size,
                    planned.tree_head.root_hash.hex(),
                    previous.tree_size,
                    previous.root_hash.hex(),
                    exc,
                )
                refused.append(
                    describe_failure(
                        exc,
                        planned.log,
                        observed_at(discovery.request_as_of),
                        proof_kind=CONSISTENCY,
                        tree_size=planned.tree_head.tree_size,
                        previous_tree_size=previous.tree_size,
                    )
                )
                continue
            finally:
                reader.close()
        kept.append(planned)
    return kept, refused


def fetch_range(plan_file: Path, log_position: int, start: int, end_exclusive: int) -> Path:
    """Fetch and verify entries [start, end_exclusive) of one planned log; stage what the warehouse
    keeps to a file beside the plan and return its path. Raises if the range cannot be fetched or
    proven, after leaving the evidence in a failure file of the run for `load_ranges`."""
    plan = read_msgpack(plan_file, Plan)
    planned = plan.logs[log_position]
    politeness = Politeness(plan.batch_size, plan.requests_per_second, plan.concurrency)
    reader = open_reader(planned.log, politeness, as_of=plan.request_as_of)
    reducer = RangeReducer(
        planned.log.log_id,
        start,
        end_exclusive,
        planned.tree_head,
        watched_spki_sha256=plan.watched_spki_sha256,
        watched_der_sha256=plan.watched_der_sha256,
        resolve_fingerprint=reader.resolve_fingerprint,
    )
    wall_started, process_started = time.monotonic(), time.process_time()
    fetch_thread_s = reduce_thread_s = 0.0
    try:
        batches = reader.verified_batches(start, end_exclusive, planned.tree_head)
        while True:
            before = time.thread_time()
            batch = next(batches, None)
            after = time.thread_time()
            fetch_thread_s += after - before
            if batch is None:
                break
            reducer.add(batch)
            reduce_thread_s += time.thread_time() - after
    except _LOG_FAILURES as exc:
        failure = describe_failure(
            exc,
            planned.log,
            observed_at(plan.request_as_of),
            proof_kind=RANGE_PROOF,
            tree_size=planned.tree_head.tree_size,
            start=start,
            end_exclusive=end_exclusive,
        )
        write_atomically(failure_path(plan_file.parent, planned.log.log_id, start, end_exclusive), failure)
        raise
    finally:
        reader.close()
    process_s = time.process_time() - process_started
    staged = reducer.finish(
        {
            # the consumer thread decodes, hashes and proves; HTTP and JSON run in fetch threads
            "decode_hash_verify": fetch_thread_s,
            "reduce": reduce_thread_s,
            "fetch_json": max(0.0, process_s - fetch_thread_s - reduce_thread_s),
        }
    )
    path = (
        plan_file.parent
        / "ranges"
        / f"{planned.log.log_id.hex()[:16]}-{start:012d}-{end_exclusive:012d}.msgpack"
    )
    write_atomically(path, staged)
    wall_s = max(time.monotonic() - wall_started, 1e-9)
    entries = end_exclusive - start
    log.info(
        "%s: staged [%d, %d): %d entries in %.1f s (%.0f entries/s, %.1f CPU-µs/entry), %d watched leaves, "
        "%d chain certificates, %d bad entries",
        planned.log.description,
        start,
        end_exclusive,
        entries,
        wall_s,
        entries / wall_s,
        process_s * 1e6 / max(entries, 1),
        len(staged.leaves.entry_index),
        len(staged.certs),
        len(staged.errors),
    )
    return path


def load_ranges(
    warehouse_file: Path, staged_paths: Iterable[Path], *, as_of: datetime, run_dir: Path | None = None
) -> LoadSummary:
    """Load staged ranges (rows and coverage per transaction), then delete the staged files. With
    the run's staging folder `run_dir` (the run is over), also store the evidence of the ranges
    its fetch tasks refused, then delete the whole folder."""
    paths = [Path(p) for p in staged_paths]
    failures = failure_files(run_dir) if run_dir is not None else []
    summary = LoadSummary.empty()
    if paths or failures:
        con = warehouse.connect(warehouse_file)
        try:
            summary = load_staged_ranges(con, paths, as_of=as_of, failure_paths=failures)
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


@dataclass(frozen=True)
class IngestSummary:
    ranges_planned: int
    ranges_failed: int
    entries: int
    leaf_rows: int
    new_certificates: int
    findings: int
    cpu_s: dict[str, float]  # per stage: fetch_json, decode_hash_verify, reduce (fetch), load


def ingest_once(
    warehouse_file: Path, config: IngestConfig, run_dir: Path, *, as_of: datetime
) -> IngestSummary:
    """Discover, plan, then fetch and load range after range (each range its own transaction), in
    this process. A range that fails is logged and stays uncovered for the next run; the evidence
    of the refused ranges is stored last, with the staging folder removed."""
    discovery = discover_logs(config, run_dir)
    jobs = plan_ranges(
        warehouse_file,
        discovery,
        new_logs_start=config.new_logs_start,
        min_range_entries=config.min_range_entries,
        max_ranges=config.max_ranges,
    )
    failed = entries = leaf_rows = new_certs = findings = 0
    cpu_s: dict[str, float] = {}
    for job in jobs:
        try:
            staged = fetch_range(
                Path(str(job["plan_file"])),
                int(job["log_position"]),
                int(job["start"]),
                int(job["end_exclusive"]),
            )
        except _LOG_FAILURES as exc:
            failed += 1
            log.error(
                "range %s..%s failed, left for the next run: %s", job["start"], job["end_exclusive"], exc
            )
            continue
        summary = load_ranges(warehouse_file, [staged], as_of=as_of)
        entries += summary.entries
        leaf_rows += summary.leaf_rows
        new_certs += summary.new_certificates
        findings += summary.findings
        for stage, seconds in [*summary.fetch_cpu_s.items(), ("load", summary.cpu_s)]:
            cpu_s[stage] = cpu_s.get(stage, 0.0) + seconds
    load_ranges(warehouse_file, [], as_of=as_of, run_dir=run_dir)
    return IngestSummary(len(jobs), failed, entries, leaf_rows, new_certs, findings, cpu_s)


def _head_record(planned: PlannedLog) -> ct_store.TreeHeadRecord:
    head = planned.tree_head
    return ct_store.TreeHeadRecord(
        planned.log.log_id.hex(),
        head.tree_size,
        head.timestamp_ms,
        head.root_hash,
        head.signature,
        head.signature_format,
    )


def _tree_head(record: ct_store.TreeHeadRecord) -> TreeHead:
    return TreeHead(
        record.tree_size, record.timestamp_ms, record.root_hash, record.signature, record.signature_format
    )
