"""`ctwatch ct ingest` (one ingestion run in this process: what ingest_ct_logs does, without Airflow)
and `ctwatch ct extend-back` (follow a log from an earlier index)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctwatch.cli.errors import CommandError
from ctwatch.cli.settings import add_warehouse_option, resolved, warehouse_of
from ctwatch.ingest.follow import extend_back
from ctwatch.ingest.run import ingest_once
from ctwatch.timeutil import parse_utc


def _cmd_ingest(args: argparse.Namespace) -> int:
    if (args.backfill_from is None) != (args.backfill_to is None):
        raise CommandError("--backfill-from and --backfill-to go together")
    window = (args.backfill_from, args.backfill_to) if args.backfill_from is not None else None
    configured = resolved(args)
    config = configured.ingest_config(backfill_window=window)
    warehouse_file: Path = args.warehouse or configured.warehouse
    run_dir = warehouse_file.parent / "staging" / "cli"
    summary = ingest_once(warehouse_file, config, run_dir, as_of=args.as_of or datetime.now(UTC))
    print(json.dumps(dataclasses.asdict(summary)))
    if summary.ranges_failed:
        print(
            f"ctwatch ct ingest: {summary.ranges_failed} of {summary.ranges_planned} ranges failed",
            file=sys.stderr,
        )
        return 1
    return 0


def _cmd_extend_back(args: argparse.Namespace) -> int:
    old_start, new_start = extend_back(warehouse_of(args), args.log_id, args.to_index)
    print(json.dumps({"log_id": args.log_id.lower(), "followed_from": old_start, "now_from": new_start}))
    return 0


def add_parsers(commands: Any) -> None:
    ct = commands.add_parser("ct", help="CT logs ctwatch follows")
    ct_commands = ct.add_subparsers(dest="ct_command", required=True, metavar="COMMAND")
    ingest = add_warehouse_option(
        ct_commands.add_parser(
            "ingest",
            help="one ingestion run of the logs [ct] configures, in this process; prints a JSON summary",
        )
    )
    ingest.add_argument("--backfill-from", type=parse_utc, help="backfill window start (ISO 8601, UTC)")
    ingest.add_argument("--backfill-to", type=parse_utc, help="backfill window end, exclusive")
    ingest.add_argument("--as-of", type=parse_utc, help="as-of of the rule evaluation (default: now)")
    ingest.set_defaults(handler=_cmd_ingest)

    back = add_warehouse_option(
        ct_commands.add_parser(
            "extend-back", help="follow a log from an earlier index: the next runs ingest the older entries"
        )
    )
    back.add_argument("log_id", help="the log's LogID in hex (as `config check` and the task logs show it)")
    back.add_argument("--to-index", type=int, default=0, help="the new first index (default: 0, the origin)")
    back.set_defaults(handler=_cmd_extend_back)
