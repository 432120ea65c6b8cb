"""The plan step (warehouse): per discovered log, the index ranges between its follow start (or
backfill window) and its verified head that are not covered yet. New logs start following here, and
heads refused at discovery or not consistent with the stored head are stored as evidence."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from ctwatch import warehouse
from ctwatch.evidence.revocation import observation_stamp
from ctwatch.ingest.config import START_AT_HEAD, START_AT_ORIGIN
from ctwatch.ingest.evidence import describe_failure, to_record
from ctwatch.ingest.health import failure_checks
from ctwatch.ingest.load import head_record
from ctwatch.ingest.model import (
    CONSISTENCY,
    PLAN_FILE,
    Plan,
    PlannedLog,
    TreeHead,
    VerificationFailure,
    read_msgpack,
    write_atomically,
)
from ctwatch.ingest.ranges import MAX_RANGES, MIN_RANGE_ENTRIES, PlannedRange, split_gaps, uncovered
from ctwatch.ingest.readers import READ_FAILURES, open_reader
from ctwatch.sources.loglist import LogApi
from ctwatch.warehouse import ct_store, source_health

log = logging.getLogger(__name__)


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
        refusals = _follow_start_refusals(con, consistent) if new_logs_start == START_AT_ORIGIN else []
        with warehouse.transaction(con):
            ct_store.store_verification_failures(con, [to_record(f) for f in [*discovery.failures, *refused]])
            source_health.record_checks(con, failure_checks([*discovery.failures, *refused]))
            follow = ct_store.follow_from(con)
            for planned in consistent:
                log_id = planned.log.log_id.hex()
                if log_id not in follow:
                    start = 0 if new_logs_start == START_AT_ORIGIN else planned.tree_head.tree_size
                    head = head_record(log_id, planned.tree_head)
                    ct_store.start_following(con, head, start, planned.log.url, planned.log.description)
                    follow[log_id] = start
            covered = ct_store.coverage(con, [p.log.log_id.hex() for p in consistent])
            watched = set(discovery.watched_spki_sha256) | set(ct_store.watched_issuer_keys(con))
    finally:
        con.close()
    if refusals:
        raise FollowStartError("\n".join(refusals))
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
        max_body_bytes=discovery.max_body_bytes,
        response_deadline_s=discovery.response_deadline_s,
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


class FollowStartError(ValueError):
    """new_logs_start = "origin" names logs already followed from a later index."""


def _follow_start_refusals(con: duckdb.DuckDBPyConnection, logs: list[PlannedLog]) -> list[str]:
    """One line per planned log followed from a later index with entries before it not covered:
    new_logs_start only applies to logs seen for the first time, and silently ingesting nothing
    older would leave staff believing the log's history is covered."""
    details = ct_store.follow_details(con)
    ids = [planned.log.log_id.hex() for planned in logs if planned.window is None]
    covered = ct_store.coverage(con, ids)
    lines = []
    for log_id in ids:
        followed = details.get(log_id)
        if followed is None or followed["follow_from_index"] == 0:
            continue
        start = int(followed["follow_from_index"])
        if not uncovered(0, start, covered[log_id]):
            continue  # a backfill already covered what lies before the follow start
        since = followed["first_sth_timestamp"]
        lines.append(
            f'new_logs_start = "origin" applies to logs seen for the first time: {followed["description"]} '
            f"({log_id}) has been followed from index {start} since {since:%Y-%m-%d}. "
            f"To ingest entries 0..{start - 1}: `ctwatch ct extend-back {log_id}` (the next runs fetch "
            f'them), or a backfill of ingest_ct_logs over their dates; or set new_logs_start = "head".'
        )
    return lines


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
            reader = open_reader(planned.log, discovery.politeness, as_of=discovery.request_as_of)
            try:
                reader.prove_extends(_tree_head(previous), planned.tree_head)
            except READ_FAILURES as exc:
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
                        observation_stamp(discovery.request_as_of)[0],
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


def _tree_head(record: ct_store.TreeHeadRecord) -> TreeHead:
    return TreeHead(
        record.tree_size, record.timestamp_ms, record.root_hash, record.signature, record.signature_format
    )
