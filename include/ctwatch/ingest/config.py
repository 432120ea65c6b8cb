"""What to ingest and how: one settings object, from DAG params, JSON or the command line."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ctwatch.ingest.ranges import MAX_RANGES, MIN_RANGE_ENTRIES
from ctwatch.sources.http import DEFAULT_MAX_BODY_BYTES, DEFAULT_RESPONSE_DEADLINE_S, Politeness

START_AT_HEAD = "head"
START_AT_ORIGIN = "origin"
CT_SETTINGS = "[ct]"  # where ctwatch.toml sets the values below, named in errors


class _CtLimits(Protocol):
    @property
    def batch_size(self) -> int: ...
    @property
    def requests_per_second(self) -> float: ...
    @property
    def concurrency(self) -> int: ...
    @property
    def max_body_bytes(self) -> int: ...
    @property
    def response_deadline_s(self) -> float: ...


def ct_politeness(limits: _CtLimits) -> Politeness:
    """The transport limits of a CT client, from a run's settings or from its plan."""
    return Politeness(
        limits.batch_size,
        limits.requests_per_second,
        limits.concurrency,
        max_body_bytes=limits.max_body_bytes,
        response_deadline_s=limits.response_deadline_s,
        settings_table=CT_SETTINGS,
    )


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
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # one answer, after decompression
    response_deadline_s: float = DEFAULT_RESPONSE_DEADLINE_S  # from a request to its last byte
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
        return ct_politeness(self)
