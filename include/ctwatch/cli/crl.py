"""`ctwatch crl inspect CRL_FILE [--issuer CERT_FILE] [--as-of TIME]`: one JSON object about one CRL;
a file that is no CRL (or an issuer file without a certificate) is also named on stderr, exit 2."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ctwatch.cli.errors import CommandError
from ctwatch.crl.scan import CrlScan, scan_crl
from ctwatch.timeutil import parse_utc
from ctwatch.x509 import ParsedCert, analyse_bytes


def add_parsers(subparsers: Any) -> None:
    """Add `crl` with its `inspect` subcommand to an argparse subparsers object."""
    crl: argparse.ArgumentParser = subparsers.add_parser("crl", help="certificate revocation lists")
    commands = crl.add_subparsers(dest="crl_command", required=True, metavar="COMMAND")
    inspect = commands.add_parser("inspect", help="read one CRL file (DER or PEM) and print one JSON object")
    inspect.add_argument("crl_file", type=Path)
    inspect.add_argument("--issuer", type=Path, help="issuer certificate (DER or PEM) to check the signature")
    inspect.add_argument(
        "--as-of", type=parse_utc, help="observation time for the staleness check (ISO 8601, UTC)"
    )
    inspect.set_defaults(handler=inspect_command)


def inspect_record(crl_file: Path, issuer_file: Path | None, as_of: datetime | None) -> dict[str, Any]:
    """The JSON-ready result of `crl inspect`."""
    issuer: ParsedCert | None = None
    if issuer_file is not None:
        try:
            results = analyse_bytes(issuer_file.read_bytes())
        except OSError as exc:
            return {"path": str(crl_file), "error": f"cannot read issuer: {exc.strerror or exc}"}
        certs = [r for r in results if isinstance(r, ParsedCert)]
        if not certs:
            return {"path": str(crl_file), "error": f"no certificate in issuer file {issuer_file}"}
        issuer = certs[0]
    return scan_record(scan_crl(crl_file, issuer=issuer, as_of=as_of))


def scan_record(scan: CrlScan) -> dict[str, Any]:
    if scan.error is not None or scan.header is None or scan.trailer is None:
        return {
            "path": str(scan.path),
            "error": scan.error,
            "entries": scan.entry_count,
            "findings": [f.as_json() for f in scan.findings],
        }
    header, trailer = scan.header, scan.trailer
    return {
        "path": str(scan.path),
        "issuer": header.issuer_rfc4514,
        "this_update": header.this_update.isoformat(),
        "next_update": None if header.next_update is None else header.next_update.isoformat(),
        "crl_number": trailer.crl_number,
        "delta_base_crl_number": trailer.delta_base_crl_number,
        "idp": None if trailer.idp is None else trailer.idp.scope_text(),
        "entries": scan.entry_count,
        "signature_valid": scan.signature_valid,
        "signature_detail": trailer.signature_detail,
        "der_sha256": trailer.der_sha256,
        "der_length": trailer.der_length,
        "findings": [f.as_json() for f in scan.findings],
    }


def inspect_command(args: argparse.Namespace) -> int:
    """Print the inspect record of `args.crl_file`; an error is in the JSON and, with exit status 2,
    on stderr."""
    if not args.crl_file.is_file():
        raise CommandError(f"no such file: {args.crl_file}")
    record = inspect_record(args.crl_file, args.issuer, args.as_of)
    print(json.dumps(record, ensure_ascii=False))
    if record.get("error"):
        print(f"ctwatch crl inspect: {args.crl_file}: {record['error']}", file=sys.stderr)
        return 2
    return 0
