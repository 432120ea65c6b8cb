"""What ingestion passes between its steps: the plan file, fetch jobs and staged range files.

Plan and staged files are msgpack (msgspec): a few ms to write or read, bytes kept as bytes.
Every file is written to a temporary name and renamed, so a killed task never leaves half a file
that a later task would trust; one that cannot be written (a full disk) fails its step with
StagingError, never as the log's failure. Airflow's XCom carries only paths and index numbers.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from ctwatch.ingest.config import ct_politeness
from ctwatch.sources.http import DEFAULT_MAX_BODY_BYTES, DEFAULT_RESPONSE_DEADLINE_S, Politeness
from ctwatch.sources.staging import StagingError

RFC6962_STH = "rfc6962_sth"
CHECKPOINT = "checkpoint"

# Why a head or range was refused (ct_verification_failures.kind).
TREE_HEAD_SIGNATURE = "tree_head_signature"
CONSISTENCY = "consistency"
RANGE_PROOF = "range_proof"
FETCH = "fetch"

T = TypeVar("T")


class TreeHead(msgspec.Struct, frozen=True):
    """A verified tree head: an RFC 6962 STH (TLS DigitallySigned) or a static-ct checkpoint (note)."""

    tree_size: int
    timestamp_ms: int
    root_hash: bytes
    signature: bytes
    signature_format: str  # RFC6962_STH or CHECKPOINT


PLAN_FILE = "plan.msgpack"  # a run's plan, beside its discovery file in the run's staging folder


class LogEndpoint(msgspec.Struct, frozen=True):
    """Where and how to read one log (from the log list)."""

    log_id: bytes
    api: str  # ctwatch.sources.loglist.LogApi value
    url: str  # RFC 6962 base URL or static-ct monitoring prefix
    submission_url: str | None  # static-ct: names the checkpoint origin
    key_der: bytes
    description: str
    mmd_s: int


class PlannedLog(msgspec.Struct, frozen=True):
    """One log of a plan, with the verified head every range of this run is proven against."""

    log: LogEndpoint
    tree_head: TreeHead
    window: tuple[int, int] | None = None  # backfill: the index range bisection found; None: follow


class VerificationFailure(msgspec.Struct, frozen=True):
    """A head or range this run refused and the evidence why; becomes a ct_verification_failures row."""

    log_id: bytes
    observed_at: datetime
    kind: str  # TREE_HEAD_SIGNATURE, CONSISTENCY, RANGE_PROOF or FETCH
    detail: str
    tree_size: int | None = None
    previous_tree_size: int | None = None
    start: int | None = None
    end_exclusive: int | None = None
    expected_hex: str | None = None
    served_hex: str | None = None


class Plan(msgspec.Struct, frozen=True):
    """A run's plan: the logs, what makes a leaf's issuer watched, and how politely to fetch.
    A discovery file also carries the heads discovery refused, for the plan step to store."""

    logs: list[PlannedLog]
    watched_spki_sha256: list[str]  # lower-case hex
    watched_der_sha256: list[str]  # certificates configured by hash: their keys are watched too
    batch_size: int  # entries per get-entries request
    requests_per_second: float
    concurrency: int
    request_as_of: datetime | None = None  # simulator as-of header (real logs ignore it)
    failures: list[VerificationFailure] = msgspec.field(default_factory=list)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    response_deadline_s: float = DEFAULT_RESPONSE_DEADLINE_S

    @property
    def politeness(self) -> Politeness:
        return ct_politeness(self)


class StagedCert(msgspec.Struct, frozen=True, array_like=True):
    """A distinct chain certificate of a range: the first index it was seen at, and the entry with
    the earliest CT timestamp that carried it (timestamps are not monotonic in the index)."""

    der: bytes
    first_index: int
    earliest_index: int
    earliest_timestamp_ms: int


class StagedLeaves(msgspec.Struct):
    """Leaf rows of watched issuers, column by column (as the warehouse binds them)."""

    entry_index: list[int] = msgspec.field(default_factory=list)
    timestamp_ms: list[int] = msgspec.field(default_factory=list)
    leaf_hash: list[bytes] = msgspec.field(default_factory=list)
    precert: list[bool] = msgspec.field(default_factory=list)
    issuer_spki_sha256: list[str] = msgspec.field(default_factory=list)
    serial: list[bytes | None] = msgspec.field(default_factory=list)
    not_before_s: list[int | None] = msgspec.field(default_factory=list)
    not_after_s: list[int | None] = msgspec.field(default_factory=list)


class StagedCount(msgspec.Struct, frozen=True, array_like=True):
    issuer_spki_sha256: str  # '' when the issuer could not be told
    day: int  # UTC days since 1970-01-01 of the entry timestamp
    precert: bool
    entries: int


class StagedError(msgspec.Struct, frozen=True, array_like=True):
    entry_index: int
    leaf_hash: bytes | None
    error: str


class StagedRange(msgspec.Struct):
    """Everything the load needs from one verified range [start, end_exclusive) of one log."""

    log_id: bytes
    start: int
    end_exclusive: int
    tree_head: TreeHead
    certs: list[StagedCert]
    leaves: StagedLeaves
    counts: list[StagedCount]
    errors: list[StagedError]
    cpu_s: dict[str, float]  # CPU seconds per stage of the fetch, for progress and the benchmark


_ENCODER = msgspec.msgpack.Encoder()


def write_atomically(path: Path, value: Any) -> Path:
    """Write `value` as msgpack to `path` via a temporary file and a rename. A write that fails (a
    full disk) leaves no temporary file and raises StagingError naming the folder."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(_ENCODER.encode(value))
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StagingError(path.parent, path, exc) from exc
    return path


def read_msgpack(path: Path, kind: type[T]) -> T:
    """Read a file written by `write_atomically` as `kind`."""
    return msgspec.msgpack.decode(path.read_bytes(), type=kind)
