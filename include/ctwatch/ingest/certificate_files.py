"""Certificates from PEM/DER files into the warehouse (the `import` command); undecodable input is
recorded, not dropped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ctwatch import warehouse
from ctwatch.x509 import CertError, ParsedCert, analyse_bytes


@dataclass(frozen=True)
class ImportSummary:
    certificates: int
    new_certificates: int
    errors: int


def import_certificate_files(warehouse_file: Path, paths: Iterable[Path]) -> ImportSummary:
    """Analyse PEM/DER files and store their certificates; undecodable input is recorded, not dropped."""
    certificates = new = errors = 0
    con = warehouse.connect(warehouse_file)
    try:
        for path in paths:
            source = f"file:{path}"
            parsed: list[ParsedCert] = []
            failed: list[tuple[CertError, str]] = []
            for result in analyse_bytes(path.read_bytes()):
                if isinstance(result, CertError):
                    failed.append((result, source))
                else:
                    parsed.append(result)
            new += warehouse.store_certificates(con, parsed, source=source)
            warehouse.record_parse_errors(con, failed)
            certificates += len(parsed)
            errors += len(failed)
    finally:
        con.close()
    return ImportSummary(certificates=certificates, new_certificates=new, errors=errors)
