"""The first ingestion step (network only): the log list, each log's verified tree head and, for a
backfill, the index range of the window, written to the run's discovery file."""

from __future__ import annotations

import logging
from pathlib import Path

import requests

from ctwatch.evidence.revocation import observation_stamp
from ctwatch.ingest.bisect import bisect_window
from ctwatch.ingest.config import IngestConfig
from ctwatch.ingest.evidence import describe_failure
from ctwatch.ingest.model import FETCH, LogEndpoint, Plan, PlannedLog, VerificationFailure, write_atomically
from ctwatch.ingest.readers import READ_FAILURES, open_reader
from ctwatch.sources.http import FetchError, HttpClient, Politeness
from ctwatch.sources.loglist import READABLE_STATES, LogListError, parse_log_list

log = logging.getLogger(__name__)
DISCOVERY_FILE = "discovery.msgpack"


def _read_log_list(source: str) -> bytes:
    if source.startswith(("https://", "http://")):
        http = HttpClient(Politeness())
        try:
            return http.get(source, bytes)
        finally:
            http.close()
    return Path(source).read_bytes()


class LogListUnreadable(Exception):
    """The configured log list cannot be fetched, read or parsed: no log can be followed."""


def discover_logs(config: IngestConfig, run_dir: Path) -> Path:
    """Read the log list and each log's verified head (and, for a backfill, the window's index range
    by timestamp bisection); write them to `run_dir`. A log that fails is left out, its failure
    logged and kept in the discovery file for `plan_ranges` to store."""
    try:
        log_list = parse_log_list(_read_log_list(config.log_list))
    except (OSError, requests.RequestException, FetchError, LogListError) as exc:
        raise LogListUnreadable(f"cannot read the log list {config.log_list}: {exc}") from exc
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
        except READ_FAILURES as exc:
            log.error("%s (%s): skipped this run: %s", endpoint.description, endpoint.url, exc)
            failures.append(
                describe_failure(exc, endpoint, observation_stamp(config.request_as_of)[0], proof_kind=FETCH)
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
        max_body_bytes=config.max_body_bytes,
        response_deadline_s=config.response_deadline_s,
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
