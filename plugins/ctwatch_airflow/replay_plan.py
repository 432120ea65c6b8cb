"""What one demo replays: the period, each replayed DAG's interval, and the DAGs it drives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ctwatch.config.spec import interval

INGESTION_DAGS = ("ingest_revocations", "ingest_crtsh")
EVALUATION_DAG = "evaluate_compliance"
CT_DAG = "ingest_ct_logs"
ALERTS_DAG = "send_alerts"
ALL_DAGS = (CT_DAG, *INGESTION_DAGS, EVALUATION_DAG, ALERTS_DAG)


@dataclass(frozen=True)
class Replay:
    """What one demo replays: the period and each replayed DAG's interval ("7d", as in ctwatch.toml)."""

    start: datetime
    end: datetime
    interval: str  # revocation polling and evaluation: their first observation is this coarse
    crtsh_interval: str  # crt.sh and Bugzilla: bugs only link owners to incidents

    def interval_of(self, dag_id: str) -> str:
        return self.crtsh_interval if dag_id == "ingest_crtsh" else self.interval

    def step_of(self, dag_id: str) -> timedelta:
        return interval(self.interval_of(dag_id))

    def runs_of(self, dag_id: str) -> int:
        """Intervals from `start` until one ends at or after `end`."""
        return -(-(self.end - self.start) // self.step_of(dag_id))  # ceiling division

    def last_start_of(self, dag_id: str) -> datetime:
        return self.start + (self.runs_of(dag_id) - 1) * self.step_of(dag_id)

    def last_as_of_of(self, dag_id: str) -> datetime:
        return self.start + self.runs_of(dag_id) * self.step_of(dag_id)

    @property
    def last_as_of(self) -> datetime:
        """The as-of of the last evaluation."""
        return self.last_as_of_of(EVALUATION_DAG)
