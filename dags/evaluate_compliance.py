"""Evaluate the compliance clock hourly: incidents, deadlines, verdicts and alert events as of the
interval end. Runs with or without new data: a deadline passes by itself."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.interval import DeltaDataIntervalTimetable

from ctwatch.evaluate import jobs
from ctwatch.report import write_reports
from ctwatch_airflow.defaults import DEFAULT_ARGS, WAREHOUSE_POOL
from ctwatch_airflow.settings import data_dir, interval_from_env, warehouse_path


@dag(
    dag_id="evaluate_compliance",
    # An explicit interval timetable: data_interval_end is the as-of of the evaluation, and a
    # backfill over past intervals replays history (its alerts are marked historical).
    schedule=DeltaDataIntervalTimetable(interval_from_env("CTWATCH_EVALUATE_INTERVAL", timedelta(hours=1))),
    # Early enough to backfill the July 2020 incident; live runs do not catch up.
    start_date=datetime(2020, 6, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ctwatch", "compliance"],
    doc_md=__doc__,
)
def evaluate_compliance() -> None:
    @task(pool=WAREHOUSE_POOL)
    def evaluate() -> dict[str, int]:
        as_of = get_current_context()["data_interval_end"]
        summary = jobs.evaluate_compliance(warehouse_path(), as_of, config_file=_config_file())
        return {
            "incidents": summary.incidents,
            "verdicts": summary.verdicts,
            "out_of_scope": summary.out_of_scope,
        }

    @task(pool=WAREHOUSE_POOL)
    def report() -> dict[str, int]:
        # appendix.csv, incident.md and plots per incident, rewritten only where they changed
        as_of = get_current_context()["data_interval_end"]
        summary = write_reports(warehouse_path(), as_of, data_dir() / "reports", config_file=_config_file())
        return {"incidents": summary.incidents, "files_changed": summary.files_changed}

    evaluate() >> report()


def _config_file() -> Path | None:
    """Declared incidents and polling intervals: $CTWATCH_EVALUATION_CONFIG, else the packaged file."""
    config = os.environ.get("CTWATCH_EVALUATION_CONFIG")
    return Path(config) if config else None


evaluate_compliance()
