"""Evidence of refused tree heads and ranges: an exception from a log reader turned into the
`VerificationFailure` the warehouse keeps, and where fetch tasks leave it for the load task.

A fetch task that refuses its range fails (Airflow marks it so and the next run plans the range
again), so it cannot hand its evidence over through XCom: it writes a failure file under the run's
staging folder instead, and the load task stores every failure file of the run. A range that failed
on this machine (its staged file could not be written) is no evidence about the log: the fetch task
leaves an empty marker instead, and the load task then judges that log's health by nothing this run.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from pathlib import Path

from ctwatch.ct.merkle import ProofError
from ctwatch.ct.signatures import SignatureError
from ctwatch.ingest.model import FETCH, TREE_HEAD_SIGNATURE, LogEndpoint, VerificationFailure
from ctwatch.sources.rfc6962 import TreeHeadError
from ctwatch.warehouse import ct_store

log = logging.getLogger(__name__)
FAILURES_DIR = "failures"
LOCAL_FAILURES_DIR = "local_failures"


def describe_failure(
    exc: Exception,
    log: LogEndpoint,
    when: datetime,
    *,
    proof_kind: str,
    tree_size: int | None = None,
    previous_tree_size: int | None = None,
    start: int | None = None,
    end_exclusive: int | None = None,
) -> VerificationFailure:
    """The evidence of `exc`: a ProofError is a `proof_kind` failure with its expected and served
    hashes; a bad signature keeps the served head and the key it had to verify under (its SHA-256,
    the LogID); anything else is a fetch failure with its reason."""
    expected: str | None = None
    served: str | None = None
    if isinstance(exc, ProofError):
        kind, expected, served = proof_kind, exc.expected, exc.served
    elif isinstance(exc, SignatureError):
        kind, expected = TREE_HEAD_SIGNATURE, hashlib.sha256(log.key_der).hexdigest()
        served = exc.served.hex() if isinstance(exc, TreeHeadError) else None
    else:
        kind = FETCH
    return VerificationFailure(
        log_id=log.log_id,
        observed_at=when,
        kind=kind,
        detail=str(exc),
        tree_size=tree_size,
        previous_tree_size=previous_tree_size,
        start=start,
        end_exclusive=end_exclusive,
        expected_hex=expected,
        served_hex=served,
    )


def failure_path(run_dir: Path, log_id: bytes, start: int, end_exclusive: int) -> Path:
    """Where a fetch task leaves the evidence of its refused range (a retry overwrites it)."""
    return run_dir / FAILURES_DIR / f"{log_id.hex()[:16]}-{start:012d}-{end_exclusive:012d}.msgpack"


def failure_files(run_dir: Path) -> list[Path]:
    """The failure files fetch tasks left in a run's staging folder."""
    return sorted((run_dir / FAILURES_DIR).glob("*.msgpack"))


def mark_local_failure(run_dir: Path, log_id: bytes, start: int, end_exclusive: int) -> None:
    """Leave an empty file saying this range failed on this machine: an empty file takes no data
    block, so a full staging disk (tmpfs at least) still takes it."""
    path = run_dir / LOCAL_FAILURES_DIR / f"{log_id.hex()}-{start:012d}-{end_exclusive:012d}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as exc:
        log.warning("cannot mark range [%d, %d) as failed on this machine: %s", start, end_exclusive, exc)


def locally_failed_logs(run_dir: Path) -> set[str]:
    """The logs (hex LogIDs) with a range that failed on this machine in the run."""
    return {path.name.split("-", 1)[0] for path in (run_dir / LOCAL_FAILURES_DIR).glob("*-*")}


def to_record(failure: VerificationFailure) -> ct_store.VerificationFailure:
    return ct_store.VerificationFailure(
        log_id=failure.log_id.hex(),
        observed_at=failure.observed_at,
        kind=failure.kind,
        detail=failure.detail,
        tree_size=failure.tree_size,
        previous_tree_size=failure.previous_tree_size,
        start_index=failure.start,
        end_exclusive=failure.end_exclusive,
        expected_hex=failure.expected_hex,
        served_hex=failure.served_hex,
    )
