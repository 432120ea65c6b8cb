"""The fetch step (network only, one per planned range): entries fetched, verified against the plan's
tree head and reduced to what the warehouse keeps, staged to a file beside the plan."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ctwatch.evidence.revocation import observation_stamp
from ctwatch.ingest.evidence import describe_failure, failure_path, mark_local_failure
from ctwatch.ingest.model import RANGE_PROOF, Plan, read_msgpack, write_atomically
from ctwatch.ingest.readers import READ_FAILURES, open_reader
from ctwatch.ingest.reduce import RangeReducer
from ctwatch.sources.staging import StagingError

log = logging.getLogger(__name__)


def fetch_range(plan_file: Path, log_position: int, start: int, end_exclusive: int) -> Path:
    """Fetch and verify entries [start, end_exclusive) of one planned log; stage what the warehouse
    keeps to a file beside the plan and return its path. Raises if the range cannot be fetched or
    proven, after leaving the evidence in a failure file of the run for `load_ranges`; raises
    StagingError if the staged file cannot be written here, leaving only a marker that the failure
    was this machine's."""
    plan = read_msgpack(plan_file, Plan)
    planned = plan.logs[log_position]
    reader = open_reader(planned.log, plan.politeness, as_of=plan.request_as_of)
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
    except READ_FAILURES as exc:
        failure = describe_failure(
            exc,
            planned.log,
            observation_stamp(plan.request_as_of)[0],
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
    try:
        write_atomically(path, staged)
    except StagingError:
        mark_local_failure(plan_file.parent, planned.log.log_id, start, end_exclusive)
        raise
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
