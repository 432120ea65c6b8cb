"""One ingestion run in this process: every step in turn, for the command line, the benchmark and
the kill -9 test (the DAG runs the same steps as tasks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ctwatch.ingest.config import IngestConfig
from ctwatch.ingest.discover import discover_logs
from ctwatch.ingest.fetch import fetch_range
from ctwatch.ingest.load import load_ranges
from ctwatch.ingest.plan import plan_ranges
from ctwatch.ingest.readers import READ_FAILURES

log = logging.getLogger(__name__)


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
    advanced: set[str] = set()
    cpu_s: dict[str, float] = {}
    for job in jobs:
        try:
            staged = fetch_range(
                Path(str(job["plan_file"])),
                int(job["log_position"]),
                int(job["start"]),
                int(job["end_exclusive"]),
            )
        except READ_FAILURES as exc:
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
        advanced |= summary.logs_advanced
        for stage, seconds in [*summary.fetch_cpu_s.items(), ("load", summary.cpu_s)]:
            cpu_s[stage] = cpu_s.get(stage, 0.0) + seconds
    load_ranges(warehouse_file, [], as_of=as_of, run_dir=run_dir, logs_advanced=advanced)
    return IngestSummary(len(jobs), failed, entries, leaf_rows, new_certs, findings, cpu_s)
