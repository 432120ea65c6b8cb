"""A run of the rule registry over every certificate the warehouse holds: the `evaluate_rules` DAG's
task and the `evaluate-rules` command."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ctwatch import rules, warehouse
from ctwatch.timeutil import require_aware

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
    require_aware(as_of, "as_of")
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
