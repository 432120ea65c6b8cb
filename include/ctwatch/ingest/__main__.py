"""`python -m ctwatch.ingest`: one ingestion run in this process (what the DAG does, without Airflow).

Prints a JSON summary on stdout. Used by the kill -9 test and the benchmark, and handy by hand:
`python -m ctwatch.ingest --warehouse data/warehouse.duckdb --log-list log_list.json`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from ctwatch.ingest.config import START_AT_HEAD, START_AT_ORIGIN, IngestConfig
from ctwatch.ingest.ranges import MAX_RANGES, MIN_RANGE_ENTRIES
from ctwatch.ingest.run import ingest_once
from ctwatch.timeutil import parse_utc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ctwatch.ingest", description=__doc__)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--log-list", required=True, help="file path or http(s) URL of a v3 log list")
    parser.add_argument("--run-dir", type=Path, help="staging folder (default: <warehouse dir>/staging/cli)")
    parser.add_argument("--start", choices=(START_AT_HEAD, START_AT_ORIGIN), default=START_AT_HEAD)
    parser.add_argument("--log-id", action="append", default=[], help="hex LogID (repeat; default: all)")
    parser.add_argument("--watch-spki", action="append", default=[], help="issuer spki_sha256 hex (repeat)")
    parser.add_argument("--watch-der", action="append", default=[], help="CA certificate der_sha256 (repeat)")
    parser.add_argument("--backfill-from", type=parse_utc, help="backfill window start (ISO 8601, UTC)")
    parser.add_argument("--backfill-to", type=parse_utc, help="backfill window end, exclusive")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--requests-per-second", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--min-range-entries", type=int, default=MIN_RANGE_ENTRIES)
    parser.add_argument("--max-ranges", type=int, default=MAX_RANGES)
    parser.add_argument("--as-of", type=parse_utc, help="as-of time of the rule evaluation (default: now)")
    parser.add_argument("--quiet", action="store_true", help="log warnings only")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if (args.backfill_from is None) != (args.backfill_to is None):
        print("--backfill-from and --backfill-to go together", file=sys.stderr)
        return 2
    config = IngestConfig(
        log_list=args.log_list,
        new_logs_start=args.start,
        log_ids=tuple(args.log_id),
        watched_spki_sha256=tuple(args.watch_spki),
        watched_der_sha256=tuple(args.watch_der),
        backfill_window=(args.backfill_from, args.backfill_to) if args.backfill_from else None,
        batch_size=args.batch_size,
        requests_per_second=args.requests_per_second,
        concurrency=args.concurrency,
        min_range_entries=args.min_range_entries,
        max_ranges=args.max_ranges,
    )
    run_dir = args.run_dir or args.warehouse.parent / "staging" / "cli"
    summary = ingest_once(args.warehouse, config, run_dir, as_of=args.as_of or datetime.now(UTC))
    print(json.dumps(dataclasses.asdict(summary)))
    return 1 if summary.ranges_failed else 0


if __name__ == "__main__":
    sys.exit(main())
