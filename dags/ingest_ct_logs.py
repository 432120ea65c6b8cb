"""Ingest CT logs into the warehouse: verified ranges, exactly once, every 15 minutes.

discover (log list, verified tree heads; a backfill run bisects its data interval instead of
following the head) -> plan (warehouse pool: coverage, follow start) -> fetch, one mapped task per
index range (staged files, paths through XCom) -> load (warehouse pool: rows and coverage in one
transaction, then the rules over new CA certificates), then each log's health. The params default to
ctwatch.toml's `[ct]` table (docs/configuration.md); a triggered run may override them.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import TriggerRule, dag, get_current_context, task
from airflow.timetables.interval import DeltaDataIntervalTimetable

from ctwatch import ingest
from ctwatch_airflow.defaults import DEFAULT_ARGS, HISTORY_START, WAREHOUSE_POOL
from ctwatch_airflow.runs import run_as_of, run_interval
from ctwatch_airflow.settings import data_dir, settings, warehouse_path


def _config(params: dict[str, Any], backfill_window: tuple[datetime, datetime] | None) -> ingest.IngestConfig:
    return settings().ingest_config(params, backfill_window=backfill_window)


def _run_dir() -> Path:
    context = get_current_context()
    run_id = re.sub(r"[^A-Za-z0-9._-]", "_", context["run_id"])
    return data_dir() / "staging" / "ingest_ct_logs" / run_id


@dag(
    dag_id="ingest_ct_logs",
    schedule=DeltaDataIntervalTimetable(settings().interval("ingest_ct_logs")),
    start_date=HISTORY_START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ctwatch", "ct", "ingest"],
    doc_md=__doc__,
    params=settings().ct_params,
)
def ingest_ct_logs() -> None:
    @task
    def discover() -> str:
        context = get_current_context()
        backfill = context["dag_run"].run_type == "backfill"
        window = run_interval(context) if backfill else None
        return str(ingest.discover_logs(_config(context["params"], window), _run_dir()))

    @task(pool=WAREHOUSE_POOL)
    def plan(discovery_file: str) -> list[dict[str, int | str]]:
        config = _config(get_current_context()["params"], None)
        return ingest.plan_ranges(
            warehouse_path(),
            Path(discovery_file),
            new_logs_start=config.new_logs_start,
            min_range_entries=config.min_range_entries,
            max_ranges=config.max_ranges,
        )

    @task
    def fetch(job: dict[str, Any]) -> str:
        staged = ingest.fetch_range(
            Path(job["plan_file"]), job["log_position"], job["start"], job["end_exclusive"]
        )
        return str(staged)

    # all_done: the ranges that were fetched are loaded even if another range failed; a failed
    # range stays uncovered and is planned again by the next run.
    @task(pool=WAREHOUSE_POOL, trigger_rule=TriggerRule.ALL_DONE)
    def load(staged_files: list[str | None]) -> dict[str, int]:
        as_of = run_as_of(get_current_context())
        paths = [Path(staged) for staged in staged_files if staged]
        summary = ingest.load_ranges(warehouse_path(), paths, as_of=as_of, run_dir=_run_dir())
        return {"entries": summary.entries, "leaf_rows": summary.leaf_rows, "findings": summary.findings}

    load(fetch.expand(job=plan(discover())))


ingest_ct_logs()
