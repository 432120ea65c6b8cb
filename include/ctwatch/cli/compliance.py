"""`ctwatch evaluate-compliance`, `explain`, `report`, and the staff inputs `record-key-destruction` and
`record-problem-report`: the compliance clock's verdicts, and the evidence staff record by hand."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctwatch import warehouse
from ctwatch.cli.errors import CommandError
from ctwatch.cli.settings import add_warehouse_option, resolved, warehouse_of
from ctwatch.evaluate.certs import load_certificates
from ctwatch.evaluate.config import KeyDestruction
from ctwatch.evaluate.explain import explain
from ctwatch.evaluate.store import record_key_destruction, record_problem_report
from ctwatch.evaluate.task import evaluate_compliance
from ctwatch.timeutil import parse_utc

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def sha256_hex(text: str) -> str:
    """argparse type: a SHA-256 fingerprint, 64 hex digits (lower-cased)."""
    if not _SHA256.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a SHA-256 fingerprint (64 hex digits)")
    return text.strip().lower()


def _existing_warehouse(args: argparse.Namespace) -> Path:
    path = warehouse_of(args)
    if not path.exists():
        raise CommandError(f"no warehouse at {path}: run ctwatch (make run) or `ctwatch migrate` first")
    return path


def _cmd_evaluate(args: argparse.Namespace) -> int:
    declarations = resolved(args).declarations
    summary = evaluate_compliance(
        _existing_warehouse(args), args.as_of or datetime.now(UTC), config=declarations
    )
    print(json.dumps({**dataclasses.asdict(summary), "as_of": summary.as_of.isoformat()}))
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    declarations = resolved(args).declarations
    path = _existing_warehouse(args)
    con = warehouse.connect(path, read_only=True)
    try:
        if not load_certificates(con, der_sha256=[args.der_sha256]):
            raise CommandError(f"certificate {args.der_sha256} is not in the warehouse {path}")
        print(explain(con, args.der_sha256, args.as_of or datetime.now(UTC), declarations))
    finally:
        con.close()
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    # matplotlib takes half a second to import: only this command pays for it
    from ctwatch.report.writer import write_reports  # noqa: PLC0415

    declarations = resolved(args).declarations
    summary = write_reports(_existing_warehouse(args), args.as_of, args.out, config=declarations)
    if summary.evaluated_as_of is None:
        raise CommandError(
            f"no evaluation as of {args.as_of.isoformat()} or earlier in the warehouse: run the "
            "evaluate_compliance DAG or `ctwatch evaluate-compliance` first"
        )
    print(
        json.dumps(
            {
                "as_of": summary.as_of.isoformat(),
                "evaluated_as_of": summary.evaluated_as_of.isoformat(),
                "incidents": summary.incidents,
                "certificates": summary.certificates,
                "folders": list(summary.folders),
                "files_changed": summary.files_changed,
            }
        )
    )
    return 0


def _cmd_key_destruction(args: argparse.Namespace) -> int:
    con = warehouse.connect(warehouse_of(args))
    try:
        record_key_destruction(
            con,
            KeyDestruction(
                args.spki_sha256, args.destroyed_at, args.auditor, args.link,
                recorded_at=args.recorded_at or datetime.now(UTC),
            ),
        )  # fmt: skip
    finally:
        con.close()
    print(json.dumps({"recorded": "key_destruction", "spki_sha256": args.spki_sha256}))
    return 0


def _cmd_problem_report(args: argparse.Namespace) -> int:
    con = warehouse.connect(warehouse_of(args))
    try:
        record_problem_report(
            con,
            report_id=args.report_id,
            ca_owner=args.ca_owner,
            sent_at=args.sent_at,
            recipient=args.recipient,
            recorded_at=args.recorded_at or datetime.now(UTC),
            rule_id=args.rule_id,
            der_sha256=args.der_sha256,
            link=args.link,
        )
    finally:
        con.close()
    print(json.dumps({"recorded": "problem_report", "report_id": args.report_id}))
    return 0


def add_parsers(subparsers: Any) -> None:
    ev = add_warehouse_option(
        subparsers.add_parser(
            "evaluate-compliance",
            help="evaluate the compliance clock, store incidents and verdicts (as evaluate_compliance does)",
        )
    )
    ev.add_argument("--as-of", type=parse_utc, default=None, help="evaluation time (UTC; default: now)")
    ev.set_defaults(handler=_cmd_evaluate)

    ex = add_warehouse_option(
        subparsers.add_parser("explain", help="print the evidence chain behind a certificate's verdict")
    )
    ex.add_argument("der_sha256", type=sha256_hex, help="SHA-256 of the certificate DER (hex)")
    ex.add_argument("--as-of", type=parse_utc, default=None, help="evaluation time (UTC; default: now)")
    ex.set_defaults(handler=_cmd_explain)

    report = add_warehouse_option(
        subparsers.add_parser(
            "report", help="write per-incident reports (IRG appendix, incident.md, progress, plots)"
        )
    )
    report.add_argument("--as-of", type=parse_utc, required=True, help="date or time (UTC)")
    report.add_argument("--out", type=Path, required=True, help="output folder")
    report.set_defaults(handler=_cmd_report)

    kd = add_warehouse_option(
        subparsers.add_parser("record-key-destruction", help="record an attested key destruction")
    )
    kd.add_argument("spki_sha256", type=sha256_hex, help="SHA-256 of the SubjectPublicKeyInfo (hex)")
    kd.add_argument("--destroyed-at", type=parse_utc, required=True, help="date or time (UTC)")
    kd.add_argument("--auditor", required=True)
    kd.add_argument("--link", required=True, help="audit report or bug comment URL")
    kd.add_argument(
        "--recorded-at", type=parse_utc, default=None,
        help="when the attestation became known (UTC; default: now); earlier as-ofs do not see it",
    )  # fmt: skip
    kd.set_defaults(handler=_cmd_key_destruction)

    pr = add_warehouse_option(
        subparsers.add_parser("record-problem-report", help="record a problem report sent to a CA")
    )
    pr.add_argument("report_id")
    pr.add_argument("--ca-owner", required=True, help="CCADB CA Owner")
    pr.add_argument("--sent-at", type=parse_utc, required=True)
    pr.add_argument("--recipient", required=True)
    pr.add_argument("--rule-id")
    pr.add_argument("--der-sha256", type=sha256_hex)
    pr.add_argument("--link")
    pr.add_argument(
        "--recorded-at", type=parse_utc, default=None,
        help="when ctwatch learnt of the report (UTC; default: now); earlier as-ofs do not see it",
    )  # fmt: skip
    pr.set_defaults(handler=_cmd_problem_report)
