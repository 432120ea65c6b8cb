"""CT log lists: Google's v3 list and Apple's v5 list, and choosing which logs to read.

A log's `temporal_interval` bounds the notAfter of the certificates it accepts, so the logs that
hold certificates issued in some period are the shards whose interval overlaps the notAfter range
of those certificates (issued 2020 with validity up to ~2 years: the 2020-2022 shards). Old shards
are usually readonly, retired or shut down: `select_logs` says so instead of returning nothing.

Malformed log records are kept as `problems` (with the reason) and skipped, never raised.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ctwatch.timeutil import require_aware


class LogState(StrEnum):
    """Log state as the list distributor sees it (Chrome CT policy vocabulary)."""

    PENDING = "pending"
    QUALIFIED = "qualified"
    USABLE = "usable"
    READONLY = "readonly"
    RETIRED = "retired"
    REJECTED = "rejected"


class LogApi(StrEnum):
    """The read API a log serves."""

    RFC6962 = "rfc6962"
    STATIC_CT = "static_ct"


# States whose logs are expected to still answer read requests. Retired logs may have been shut
# down at any time after retirement; rejected logs were never trusted. A log without a state
# (seen in old lists) is not assumed readable.
READABLE_STATES = frozenset({LogState.QUALIFIED, LogState.USABLE, LogState.READONLY, LogState.PENDING})


class LogListError(ValueError):
    """The document is not a log list at all (not JSON, or no operators)."""


@dataclass(frozen=True, slots=True)
class FinalTreeHead:
    """The tree head at which a readonly log was frozen."""

    tree_size: int
    root_hash: bytes


@dataclass(frozen=True, slots=True)
class CtLog:
    """One log of a list. `not_after_start`/`not_after_end_exclusive` is its temporal interval (None: any)."""

    operator: str
    description: str
    log_id: bytes
    key_der: bytes
    api: LogApi
    url: str  # RFC 6962 base URL, or the static-ct monitoring prefix: where entries are read
    submission_url: str | None  # static-ct submission prefix (its origin names the checkpoint)
    mmd_s: int
    state: LogState | None
    state_since: datetime | None
    final_tree_head: FinalTreeHead | None
    not_after_start: datetime | None
    not_after_end_exclusive: datetime | None
    log_type: str | None  # "prod", "test", "monitoring_only"; absent in most entries
    list_source: str  # "google" or "apple"

    def accepts_not_after(self, window_start: datetime, window_end_exclusive: datetime) -> bool:
        """Whether the log's temporal interval overlaps the notAfter window [start, end)."""
        if self.not_after_start is None or self.not_after_end_exclusive is None:
            return True
        return self.not_after_start < window_end_exclusive and window_start < self.not_after_end_exclusive


@dataclass(frozen=True, slots=True)
class LogList:
    """A parsed log list; `problems` names every log record that could not be used, and why."""

    source: str
    version: str
    list_timestamp: datetime | None
    logs: tuple[CtLog, ...]
    problems: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class LogSelection:
    """The logs chosen for a notAfter window, what was left out and why, and whether anything is readable.

    `unreachable_reason` is None when `logs` is non-empty; otherwise it explains the empty answer.
    """

    logs: tuple[CtLog, ...]
    excluded: tuple[tuple[CtLog, str], ...]
    unreachable_reason: str | None


def _parse_time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a timestamp string")
    return require_aware(datetime.fromisoformat(value), f"{what} {value!r}")


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"{what} is not valid base64") from exc


def _parse_state(
    raw: Any,
) -> tuple[LogState | None, datetime | None, FinalTreeHead | None]:
    if raw is None:
        return None, None, None
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise ValueError("state must be an object with exactly one key")
    ((name, details),) = raw.items()
    state = LogState(name)
    if not isinstance(details, Mapping):
        raise ValueError(f"state {name} has no details object")
    since = _parse_time(details.get("timestamp"), f"state {name} timestamp")
    final_tree_head = None
    if state is LogState.READONLY:
        head = details.get("final_tree_head")
        if not isinstance(head, Mapping) or not isinstance(head.get("tree_size"), int):
            raise ValueError("readonly state without a final_tree_head")
        root_hash = _b64(head.get("sha256_root_hash"), "final_tree_head root hash")
        if len(root_hash) != 32:
            raise ValueError("final_tree_head root hash is not 32 bytes")
        final_tree_head = FinalTreeHead(head["tree_size"], root_hash)
    return state, since, final_tree_head


def _check_log_key(key_der: bytes) -> None:
    """A log whose key cannot verify tree heads is unusable: RFC 6962 allows ECDSA P-256 and RSA."""
    try:
        key = serialization.load_der_public_key(key_der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError("key is not a DER SubjectPublicKeyInfo") from exc
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"key type {type(key).__name__} is neither ECDSA P-256 nor RSA")


def _parse_log(raw: Any, operator: str, api: LogApi, list_source: str) -> CtLog:
    if not isinstance(raw, Mapping):
        raise ValueError("log record is not an object")
    key_der = _b64(raw.get("key"), "key")
    log_id = _b64(raw.get("log_id"), "log_id")
    if hashlib.sha256(key_der).digest() != log_id:
        raise ValueError("log_id is not the SHA-256 of the key")
    _check_log_key(key_der)
    if api is LogApi.RFC6962:
        url, submission_url = raw.get("url"), None
    else:
        url, submission_url = raw.get("monitoring_url"), raw.get("submission_url")
        if not isinstance(submission_url, str):
            raise ValueError("tiled log without submission_url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ValueError(f"log URL {url!r} is not an http(s) URL")
    mmd_s = raw.get("mmd", 86400)
    if not isinstance(mmd_s, int) or mmd_s <= 0:
        raise ValueError(f"mmd {mmd_s!r} is not a positive number of seconds")
    state, since, final_tree_head = _parse_state(raw.get("state"))
    interval = raw.get("temporal_interval")
    start = end = None
    if interval is not None:
        if not isinstance(interval, Mapping):
            raise ValueError("temporal_interval is not an object")
        start = _parse_time(interval.get("start_inclusive"), "temporal_interval start")
        end = _parse_time(interval.get("end_exclusive"), "temporal_interval end")
    log_type = raw.get("log_type")
    return CtLog(
        operator=operator,
        description=str(raw.get("description", "")),
        log_id=log_id,
        key_der=key_der,
        api=api,
        url=url,
        submission_url=submission_url,
        mmd_s=mmd_s,
        state=state,
        state_since=since,
        final_tree_head=final_tree_head,
        not_after_start=start,
        not_after_end_exclusive=end,
        log_type=log_type if isinstance(log_type, str) else None,
        list_source=list_source,
    )


def parse_log_list(document: bytes | str | Mapping[str, Any]) -> LogList:
    """Parse Google's v3 or Apple's v5 list (Apple's is recognised by `assetVersion`).

    Raises LogListError only when the document is no log list at all; a bad log record is
    recorded in `problems` and skipped.
    """
    if isinstance(document, Mapping):
        data: Any = document
    else:
        try:
            data = json.loads(document)
        except (ValueError, RecursionError) as exc:  # also a 5000-digit number, arrays nested too deep
            raise LogListError(f"log list is not JSON: {exc}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("operators"), list):
        raise LogListError("log list has no operators array")
    list_source = "apple" if "assetVersion" in data else "google"
    logs: list[CtLog] = []
    problems: list[str] = []
    for operator_number, operator in enumerate(data["operators"]):
        if not isinstance(operator, Mapping) or not isinstance(operator.get("name"), str):
            problems.append(f"operator #{operator_number}: not an object with a name")
            continue
        name = operator["name"]
        for api, key in ((LogApi.RFC6962, "logs"), (LogApi.STATIC_CT, "tiled_logs")):
            records = operator.get(key) or []
            if not isinstance(records, list):
                problems.append(f"{name}: {key} is not an array")
                continue
            for record in records:
                try:
                    logs.append(_parse_log(record, name, api, list_source))
                except (ValueError, TypeError, KeyError) as exc:
                    label = record.get("description") if isinstance(record, Mapping) else None
                    problems.append(f"{name} / {label or '?'}: {exc}")
    timestamp = data.get("log_list_timestamp")
    try:
        list_timestamp = _parse_time(timestamp, "log_list_timestamp") if timestamp is not None else None
    except ValueError as exc:
        problems.append(f"list timestamp: {exc}")
        list_timestamp = None
    return LogList(list_source, str(data.get("version", "")), list_timestamp, tuple(logs), tuple(problems))


def select_logs(
    log_list: LogList,
    not_after_start: datetime,
    not_after_end_exclusive: datetime,
    *,
    states: Iterable[LogState] = READABLE_STATES,
    api: LogApi | None = None,
    include_test_logs: bool = False,
) -> LogSelection:
    """Logs that may hold certificates with notAfter in [start, end) and can be read.

    A log is kept when its temporal interval overlaps the window, its state is one of `states`,
    its API matches `api` (any when None) and it is not a test log (unless asked). Every log that
    covers the window but is left out appears in `excluded` with the reason; when none is left,
    `unreachable_reason` explains why the window cannot be read from this list.
    """
    wanted_states = frozenset(states)
    chosen: list[CtLog] = []
    excluded: list[tuple[CtLog, str]] = []
    for log in log_list.logs:
        if not log.accepts_not_after(not_after_start, not_after_end_exclusive):
            continue
        if api is not None and log.api is not api:
            excluded.append((log, f"serves {log.api}, not {api}"))
        elif log.log_type == "test" and not include_test_logs:
            excluded.append((log, "test log"))
        elif log.state not in wanted_states:
            excluded.append((log, f"state {log.state or 'absent'}" + _since(log)))
        else:
            chosen.append(log)
    reason = None
    window = f"notAfter [{not_after_start.isoformat()}, {not_after_end_exclusive.isoformat()})"
    if not chosen and not excluded:
        reason = f"no log in the {log_list.source} list (version {log_list.version}) accepts {window}"
    elif not chosen:
        reasons = "; ".join(f"{log.description}: {why}" for log, why in excluded)
        reason = f"{len(excluded)} logs accept {window} but none is readable: {reasons}"
    return LogSelection(tuple(chosen), tuple(excluded), reason)


def _since(log: CtLog) -> str:
    return f" since {log.state_since.date().isoformat()}" if log.state_since else ""
