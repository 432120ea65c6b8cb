"""CT logs as sources: after a run, whether each log gave ctwatch what it needed.

A log is healthy in a run when its verified head is covered up to the run's window, or a range of it
was loaded (it is catching up). It failed when its head could not be fetched or verified, when a
range was refused, or when its coverage did not advance though entries below its head are missing.
A log with a range that failed on this machine (a full staging disk) and nothing refused gets no
check from the run: the run says nothing about it. The target of a log's checks is its LogID in hex.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import duckdb

from ctwatch.evidence.health import CT_LOG, SourceCheck
from ctwatch.evidence.revocation import observation_stamp
from ctwatch.ingest.model import Plan, VerificationFailure
from ctwatch.ingest.ranges import uncovered
from ctwatch.warehouse import ct_store, source_health


def failure_checks(failures: Sequence[VerificationFailure]) -> list[SourceCheck]:
    """A failed check per refused head or range (first refusal per log)."""
    checks: dict[str, SourceCheck] = {}
    for failure in failures:
        target = failure.log_id.hex()
        checks.setdefault(
            target, SourceCheck(CT_LOG, target, failure.observed_at, f"{failure.kind}: {failure.detail}")
        )
    return list(checks.values())


def record_log_health(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    logs_advanced: Collection[str],
    refused: Sequence[VerificationFailure],
    failed_here: Collection[str] = (),
) -> None:
    """Record a check per log of the run's plan: refused ranges first, else whether it is covered to
    its head or advancing; none for a log not advancing because of `failed_here` (hex LogIDs of
    logs with a range that failed on this machine)."""
    checks = {check.target: check for check in failure_checks(refused)}
    log_ids = [planned.log.log_id.hex() for planned in plan.logs]
    covered = ct_store.coverage(con, log_ids)
    follow = ct_store.follow_from(con)
    at = observation_stamp(plan.request_as_of)[0]
    for planned, log_id in zip(plan.logs, log_ids, strict=True):
        if log_id in checks:
            continue
        head = planned.tree_head.tree_size
        low, high = planned.window or (follow.get(log_id, head), head)
        missing = sum(end - start for start, end in uncovered(low, min(high, head), covered[log_id]))
        if missing == 0 or log_id in logs_advanced:
            checks[log_id] = SourceCheck(CT_LOG, log_id, at)
        elif log_id not in failed_here:
            checks[log_id] = SourceCheck(
                CT_LOG, log_id, at,
                f"{planned.log.description}: coverage did not advance, {missing} entries below the "
                f"verified head {head} not covered",
            )  # fmt: skip
    source_health.record_checks(con, list(checks.values()))
