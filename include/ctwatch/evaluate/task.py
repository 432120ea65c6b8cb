"""The evaluate_compliance task: one call, opening the warehouse once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ctwatch import warehouse
from ctwatch.alerts import OVERDUE_DIGEST_PERIOD
from ctwatch.evaluate import EvaluationConfig, evaluate, load_config

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EvaluateComplianceSummary:
    as_of: datetime
    incidents: int
    verdicts: int
    out_of_scope: int


def evaluate_compliance(
    warehouse_file: Path,
    as_of: datetime,
    *,
    config: EvaluationConfig | None = None,
    now: datetime | None = None,
    overdue_digest_period: timedelta = OVERDUE_DIGEST_PERIOD,
) -> EvaluateComplianceSummary:
    """Evaluate the compliance clock as of `as_of` (the DAG's data_interval_end) with the declared
    incidents of `config` (None: the packaged July 2020 incident); `overdue_digest_period` is
    `[alerts] overdue_digest_period`."""
    config = config or load_config()
    con = warehouse.connect(warehouse_file)
    try:
        assessment = evaluate(con, as_of, config=config, now=now, overdue_digest_period=overdue_digest_period)
    finally:
        con.close()
    log.info(
        "compliance as of %s: %d incidents, %d verdicts, %d findings out of scope",
        as_of.isoformat(), len(assessment.incidents), len(assessment.verdicts), len(assessment.out_of_scope),
    )  # fmt: skip
    return EvaluateComplianceSummary(
        as_of=assessment.as_of,
        incidents=len(assessment.incidents),
        verdicts=len(assessment.verdicts),
        out_of_scope=len(assessment.out_of_scope),
    )
