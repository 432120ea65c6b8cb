"""Units of work the DAGs and the command line run: one call per Airflow task."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ctwatch import rules, warehouse
from ctwatch.x509 import CertError, ParsedCert, analyse_bytes

log = logging.getLogger(__name__)
PROGRESS_EVERY = 10_000


@dataclass(frozen=True)
class EvaluateRulesSummary:
    certificates: int
    findings: int
    cross_certificates: int
    as_of: datetime


def evaluate_rules(warehouse_file: Path, as_of: datetime) -> EvaluateRulesSummary:
    """Run the rule registry over every stored certificate and record the findings as of `as_of`.

    Idempotent: the same `as_of` twice leaves the same rows.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    con = warehouse.connect(warehouse_file)
    try:
        cross = warehouse.mark_cross_certificates(con)
        findings: list[rules.Finding] = []
        started = time.monotonic()
        count = 0
        for cert, is_cross in warehouse.certificates_for_rules(con):
            findings.extend(
                rules.evaluate(cert, as_of=as_of, context=rules.RuleContext(is_cross_certificate=is_cross))
            )
            count += 1
            if count % PROGRESS_EVERY == 0:
                rate = count / max(time.monotonic() - started, 1e-9)
                log.info("evaluated %d certificates (%.0f/s), %d findings so far", count, rate, len(findings))
        warehouse.store_findings(con, findings, as_of=as_of)
    finally:
        con.close()
    log.info("evaluated %d certificates as of %s: %d findings", count, as_of.isoformat(), len(findings))
    return EvaluateRulesSummary(
        certificates=count, findings=len(findings), cross_certificates=cross, as_of=as_of
    )


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
