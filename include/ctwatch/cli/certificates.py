"""`ctwatch lint`, `import`, `evaluate-rules` and `migrate`: certificates from files, and the
warehouse they go to."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctwatch import rule_runs, rules, warehouse
from ctwatch.cli.errors import CommandError
from ctwatch.cli.settings import add_warehouse_option, warehouse_of
from ctwatch.ingest.certificate_files import import_certificate_files
from ctwatch.timeutil import parse_utc
from ctwatch.x509 import CertError, analyse_bytes

BAD_INPUT = 2


def input_files(paths: Sequence[Path]) -> Iterator[Path]:
    """The files named, and every file below the folders named; CommandError for a missing path."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            yield path
        else:
            raise CommandError(f"no such file or folder: {path}")


def lint_records(paths: Sequence[Path], as_of: datetime) -> Iterator[dict[str, Any]]:
    """One JSON-ready record per certificate (or per unreadable or undecodable input) in `paths`."""
    for path in input_files(paths):
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield {"path": str(path), "error": f"cannot read: {exc.strerror or exc}"}
            continue
        for index, result in enumerate(analyse_bytes(data)):
            if isinstance(result, CertError):
                yield {"path": str(path), "index": index, "error": result.error}
                continue
            findings = rules.evaluate(result, as_of=as_of)
            yield {
                "path": str(path),
                "index": index,
                "der_sha256": result.der_sha256,
                "kind": result.kind.value,
                "subject": result.subject_rfc4514,
                "findings": sorted(f.rule_id for f in findings),
                "warnings": list(result.warnings),
                "parser": result.parser,
            }


def _cmd_lint(args: argparse.Namespace) -> int:
    """Every record on stdout; each bad input also one line on stderr, and exit status 2."""
    status = 0
    for record in lint_records(args.paths, args.as_of):
        print(json.dumps(record, ensure_ascii=False), flush=False)
        if "error" in record:
            print(f"ctwatch lint: {record['path']}: {record['error']}", file=sys.stderr)
            status = BAD_INPUT
    sys.stdout.flush()
    return status


def _cmd_import(args: argparse.Namespace) -> int:
    files = list(input_files(args.paths))
    for path in files:
        if not _holds_a_certificate(path):
            raise CommandError(f"no certificate in {path} (PEM or DER expected)")
    summary = import_certificate_files(warehouse_of(args), files)
    print(json.dumps(summary.__dict__))
    return 0


def _holds_a_certificate(path: Path) -> bool:
    """Whether `path` holds at least one certificate (so nothing of a bad batch is half-stored)."""
    return any(not isinstance(result, CertError) for result in analyse_bytes(path.read_bytes()))


def _cmd_evaluate_rules(args: argparse.Namespace) -> int:
    summary = rule_runs.evaluate_rules(warehouse_of(args), args.as_of)
    print(json.dumps({**summary.__dict__, "as_of": summary.as_of.isoformat()}))
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    warehouse_file = warehouse_of(args)
    warehouse.connect(warehouse_file).close()
    print(json.dumps({"warehouse": str(warehouse_file), "migrated": True}))
    return 0


def add_parsers(commands: Any) -> None:
    lint = commands.add_parser("lint", help="analyse PEM/DER files and print one JSON object per certificate")
    lint.add_argument("paths", nargs="+", type=Path, help="files or folders (searched recursively)")
    lint.add_argument("--as-of", type=parse_utc, default=datetime.now(UTC), help="evaluation date (UTC)")
    lint.set_defaults(handler=_cmd_lint)

    load = add_warehouse_option(commands.add_parser("import", help="store certificates from PEM/DER files"))
    load.add_argument("paths", nargs="+", type=Path)
    load.set_defaults(handler=_cmd_import)

    evaluate = add_warehouse_option(
        commands.add_parser("evaluate-rules", help="run the rules over the warehouse")
    )
    evaluate.add_argument("--as-of", type=parse_utc, default=datetime.now(UTC))
    evaluate.set_defaults(handler=_cmd_evaluate_rules)

    migrate = add_warehouse_option(
        commands.add_parser("migrate", help="create or upgrade the warehouse schema")
    )
    migrate.set_defaults(handler=_cmd_migrate)
