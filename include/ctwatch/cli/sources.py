"""`ctwatch ccadb import-archive` and `ctwatch crtsh sql|import-csv`: revocation evidence from files."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from ctwatch.cli.errors import CommandError
from ctwatch.cli.settings import add_warehouse_option, warehouse_of
from ctwatch.revocation.crtsh_csv import import_crtsh_csv
from ctwatch.revocation.daily_lists import import_ccadb_archive
from ctwatch.revocation.snapshots import IngestSummary
from ctwatch.sources import crtsh
from ctwatch.timeutil import parse_utc


def _report(command: str, summary: IngestSummary) -> int:
    """The summary on stdout; nothing stored at all is bad input (exit 2), malformed records among
    good ones are recorded and named on stderr."""
    print(json.dumps(dataclasses.asdict(summary)))
    if summary.sightings == 0 and (summary.fetch_errors or summary.record_errors):
        for error in summary.fetch_errors:
            print(f"ctwatch {command}: {error}", file=sys.stderr)
        return 2
    if summary.record_errors:
        print(
            f"ctwatch {command}: {summary.record_errors} malformed records recorded "
            "(table revocation_source_errors), the rest stored",
            file=sys.stderr,
        )
    return 0


def _cmd_ccadb_import_archive(args: argparse.Namespace) -> int:
    if not args.folder.is_dir():
        raise CommandError(f"no such folder: {args.folder}")
    if not any(args.folder.glob("*.csv")):
        raise CommandError(f"no YYYY-MM-DD*.csv report in {args.folder}")
    return _report("ccadb import-archive", import_ccadb_archive(warehouse_of(args), args.folder))


def _cmd_crtsh_import_csv(args: argparse.Namespace) -> int:
    if not args.csv_file.is_file():
        raise CommandError(f"no such file: {args.csv_file}")
    try:
        summary = import_crtsh_csv(warehouse_of(args), args.csv_file, queried_at=args.queried_at)
    except UnicodeDecodeError as exc:
        raise CommandError(f"{args.csv_file}: not the UTF-8 CSV `ctwatch crtsh sql` gives ({exc})") from exc
    return _report("crtsh import-csv", summary)


def _cmd_crtsh_sql(_args: argparse.Namespace) -> int:
    sys.stdout.write(crtsh.ocsp_signing_ca_query())
    return 0


def add_parsers(commands: Any) -> None:
    ccadb = commands.add_parser("ccadb", help="CCADB reports")
    ccadb_commands = ccadb.add_subparsers(dest="ccadb_command", required=True, metavar="COMMAND")
    archive = add_warehouse_option(
        ccadb_commands.add_parser(
            "import-archive", help="store archived dated CCADB reports (YYYY-MM-DD*.csv) from a folder"
        )
    )
    archive.add_argument("folder", type=Path)
    archive.set_defaults(handler=_cmd_ccadb_import_archive)

    crtsh_parser = commands.add_parser("crtsh", help="crt.sh's public PostgreSQL")
    crtsh_commands = crtsh_parser.add_subparsers(dest="crtsh_command", required=True, metavar="COMMAND")
    sql = crtsh_commands.add_parser(
        "sql", help="print the SQL to run on crt.sh (OCSPSigning CA certificates)"
    )
    sql.set_defaults(handler=_cmd_crtsh_sql)
    csv_import = add_warehouse_option(
        crtsh_commands.add_parser("import-csv", help="store the CSV output of `crtsh sql`")
    )
    csv_import.add_argument("csv_file", type=Path)
    csv_import.add_argument(
        "--queried-at", type=parse_utc, required=True, help="when the query ran on crt.sh (ISO 8601, UTC)"
    )
    csv_import.set_defaults(handler=_cmd_crtsh_import_csv)
