"""The command line: the same library calls the DAGs make."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctwatch import rule_runs, rules, warehouse
from ctwatch.crl import cli as crl_cli
from ctwatch.evaluate import cli as evaluate_cli
from ctwatch.ingest.certificate_files import import_certificate_files
from ctwatch.report import cli as report_cli
from ctwatch.revocation.crtsh_csv import import_crtsh_csv
from ctwatch.revocation.daily_lists import import_ccadb_archive
from ctwatch.sim import cli as sim_cli
from ctwatch.sources import crtsh
from ctwatch.timeutil import parse_utc
from ctwatch.x509 import CertError, analyse_bytes

DEFAULT_WAREHOUSE = Path("data/warehouse.duckdb")


def _files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def lint_records(paths: Sequence[Path], as_of: datetime) -> Iterator[dict[str, Any]]:
    """One JSON-ready record per certificate (or per undecodable input) found in `paths`."""
    for path in _files(paths):
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
    for record in lint_records(args.paths, args.as_of):
        print(json.dumps(record, ensure_ascii=False), flush=False)
    sys.stdout.flush()
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    summary = import_certificate_files(args.warehouse, list(_files(args.paths)))
    print(json.dumps(summary.__dict__))
    return 0


def _cmd_evaluate_rules(args: argparse.Namespace) -> int:
    summary = rule_runs.evaluate_rules(args.warehouse, args.as_of)
    print(json.dumps({**summary.__dict__, "as_of": summary.as_of.isoformat()}))
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    con = warehouse.connect(args.warehouse)
    con.close()
    print(json.dumps({"warehouse": str(args.warehouse), "migrated": True}))
    return 0


def _cmd_ccadb_import_archive(args: argparse.Namespace) -> int:
    summary = import_ccadb_archive(args.warehouse, args.folder)
    print(json.dumps(dataclasses.asdict(summary)))
    return 0


def _cmd_crtsh_import_csv(args: argparse.Namespace) -> int:
    summary = import_crtsh_csv(args.warehouse, args.csv_file, queried_at=args.queried_at)
    print(json.dumps(dataclasses.asdict(summary)))
    return 0


def _cmd_crtsh_sql(args: argparse.Namespace) -> int:
    sys.stdout.write(crtsh.ocsp_signing_ca_query())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ctwatch", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True)

    lint = commands.add_parser("lint", help="analyse PEM/DER files and print one JSON object per certificate")
    lint.add_argument("paths", nargs="+", type=Path, help="files or folders (searched recursively)")
    lint.add_argument("--as-of", type=parse_utc, default=datetime.now(UTC), help="evaluation date (UTC)")
    lint.set_defaults(handler=_cmd_lint)

    def with_warehouse(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="DuckDB file")
        return sub

    load = with_warehouse(commands.add_parser("import", help="store certificates from PEM/DER files"))
    load.add_argument("paths", nargs="+", type=Path)
    load.set_defaults(handler=_cmd_import)

    evaluate = with_warehouse(commands.add_parser("evaluate-rules", help="run the rules over the warehouse"))
    evaluate.add_argument("--as-of", type=parse_utc, default=datetime.now(UTC))
    evaluate.set_defaults(handler=_cmd_evaluate_rules)

    migrate = with_warehouse(commands.add_parser("migrate", help="create or upgrade the warehouse schema"))
    migrate.set_defaults(handler=_cmd_migrate)

    ccadb = commands.add_parser("ccadb", help="CCADB reports")
    ccadb_commands = ccadb.add_subparsers(dest="ccadb_command", required=True)
    archive = with_warehouse(
        ccadb_commands.add_parser(
            "import-archive", help="store archived dated CCADB reports (YYYY-MM-DD*.csv) from a folder"
        )
    )
    archive.add_argument("folder", type=Path)
    archive.set_defaults(handler=_cmd_ccadb_import_archive)

    crtsh_parser = commands.add_parser("crtsh", help="crt.sh's public PostgreSQL")
    crtsh_commands = crtsh_parser.add_subparsers(dest="crtsh_command", required=True)
    sql = crtsh_commands.add_parser(
        "sql", help="print the SQL to run on crt.sh (OCSPSigning CA certificates)"
    )
    sql.set_defaults(handler=_cmd_crtsh_sql)
    csv_import = with_warehouse(
        crtsh_commands.add_parser("import-csv", help="store the CSV output of `crtsh sql`")
    )
    csv_import.add_argument("csv_file", type=Path)
    csv_import.add_argument(
        "--queried-at", type=parse_utc, required=True, help="when the query ran on crt.sh (ISO 8601, UTC)"
    )
    csv_import.set_defaults(handler=_cmd_crtsh_import_csv)

    crl_cli.add_parser(commands)
    evaluate_cli.add_parser(commands)
    report_cli.add_parser(commands)
    sim_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    handler = args.handler
    result: int = handler(args)
    return result
