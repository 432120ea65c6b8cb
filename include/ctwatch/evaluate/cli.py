"""`explain CERT_SHA256 [--as-of DATE]`; staff inputs `record-key-destruction`, `record-problem-report`."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctwatch import warehouse
from ctwatch.evaluate.config import ConfigError, KeyDestruction, load_config
from ctwatch.evaluate.explain import explain
from ctwatch.evaluate.store import record_key_destruction, record_problem_report
from ctwatch.timeutil import parse_utc

DEFAULT_WAREHOUSE = Path("data/warehouse.duckdb")


def add_parser(subparsers: Any) -> None:
    """Add `explain`, `record-key-destruction` and `record-problem-report` to argparse subparsers."""

    def common(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="DuckDB file")
        return sub

    ex = common(
        subparsers.add_parser("explain", help="print the evidence chain behind a certificate's verdict")
    )
    ex.add_argument("der_sha256", help="SHA-256 of the certificate DER (hex)")
    ex.add_argument("--as-of", type=parse_utc, default=None, help="evaluation time (UTC; default: now)")
    ex.add_argument("--config", type=Path, default=None, help="declared incidents (default: packaged)")
    ex.set_defaults(handler=_cmd_explain)

    kd = common(subparsers.add_parser("record-key-destruction", help="record an attested key destruction"))
    kd.add_argument("spki_sha256")
    kd.add_argument("--destroyed-at", type=parse_utc, required=True, help="date or time (UTC)")
    kd.add_argument("--auditor", required=True)
    kd.add_argument("--link", required=True, help="audit report or bug comment URL")
    kd.add_argument(
        "--recorded-at", type=parse_utc, default=None,
        help="when the attestation became known (UTC; default: now); earlier as-ofs do not see it",
    )  # fmt: skip
    kd.set_defaults(handler=_cmd_key_destruction)

    pr = common(subparsers.add_parser("record-problem-report", help="record a problem report sent to a CA"))
    pr.add_argument("report_id")
    pr.add_argument("--ca-owner", required=True, help="CCADB CA Owner")
    pr.add_argument("--sent-at", type=parse_utc, required=True)
    pr.add_argument("--recipient", required=True)
    pr.add_argument("--rule-id")
    pr.add_argument("--der-sha256")
    pr.add_argument("--link")
    pr.add_argument(
        "--recorded-at", type=parse_utc, default=None,
        help="when ctwatch learnt of the report (UTC; default: now); earlier as-ofs do not see it",
    )  # fmt: skip
    pr.set_defaults(handler=_cmd_problem_report)


def _cmd_explain(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except (ConfigError, OSError) as exc:
        print(f"configuration: {exc}")
        return 2
    con = warehouse.connect(args.warehouse, read_only=True)
    try:
        print(explain(con, args.der_sha256, args.as_of or datetime.now(UTC), config))
    finally:
        con.close()
    return 0


def _cmd_key_destruction(args: argparse.Namespace) -> int:
    con = warehouse.connect(args.warehouse)
    try:
        record_key_destruction(
            con,
            KeyDestruction(
                args.spki_sha256.lower(), args.destroyed_at, args.auditor, args.link,
                recorded_at=args.recorded_at or datetime.now(UTC),
            ),
        )  # fmt: skip
    finally:
        con.close()
    print(json.dumps({"recorded": "key_destruction", "spki_sha256": args.spki_sha256.lower()}))
    return 0


def _cmd_problem_report(args: argparse.Namespace) -> int:
    con = warehouse.connect(args.warehouse)
    try:
        record_problem_report(
            con,
            report_id=args.report_id,
            ca_owner=args.ca_owner,
            sent_at=args.sent_at,
            recipient=args.recipient,
            recorded_at=args.recorded_at or datetime.now(UTC),
            rule_id=args.rule_id,
            der_sha256=args.der_sha256.lower() if args.der_sha256 else None,
            link=args.link,
        )
    finally:
        con.close()
    print(json.dumps({"recorded": "problem_report", "report_id": args.report_id}))
    return 0
