"""`report --as-of DATE --out DIR`: write the incident reports of the evaluation as of DATE."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ctwatch.evaluate import ConfigError
from ctwatch.report.writer import write_reports
from ctwatch.timeutil import parse_utc
from ctwatch.warehouse.errors import WarehouseError

DEFAULT_WAREHOUSE = Path("data/warehouse.duckdb")


def add_parser(subparsers: Any) -> None:
    """Add `report` to argparse subparsers (sets `handler`)."""
    sub = subparsers.add_parser(
        "report", help="write per-incident reports (IRG appendix, incident.md, progress, plots)"
    )
    sub.add_argument("--as-of", type=parse_utc, required=True, help="date or time (UTC)")
    sub.add_argument("--out", type=Path, required=True, help="output folder")
    sub.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="DuckDB file")
    sub.add_argument("--config", type=Path, default=None, help="evaluator configuration (default: packaged)")
    sub.set_defaults(handler=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    try:
        summary = write_reports(args.warehouse, args.as_of, args.out, config_file=args.config)
    except (ConfigError, OSError) as exc:
        print(f"configuration: {exc}")
        return 2
    except WarehouseError as exc:
        print(f"warehouse: {exc}")
        return 2
    print(
        json.dumps(
            {
                "as_of": summary.as_of.isoformat(),
                "evaluated_as_of": summary.evaluated_as_of.isoformat() if summary.evaluated_as_of else None,
                "incidents": summary.incidents,
                "certificates": summary.certificates,
                "folders": list(summary.folders),
                "files_changed": summary.files_changed,
            }
        )
    )
    return 0 if summary.evaluated_as_of is not None else 1
