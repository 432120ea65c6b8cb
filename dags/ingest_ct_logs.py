"""Ingest CT logs into the warehouse: verified ranges, exactly once, every 15 minutes.

discover (log list, verified tree heads; a backfill run bisects its data interval instead of
following the head) -> plan (warehouse pool: coverage, follow start) -> fetch, one mapped task per
index range (staged files, paths through XCom) -> load (warehouse pool: rows and coverage in one
transaction, then the rules over new CA certificates). Settings are DAG params (see
`ctwatch.ingest.config.IngestConfig`); `log_list` defaults to `$CTWATCH_CT_LOG_LIST` or Google's list.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import TriggerRule, dag, get_current_context, task
from airflow.timetables.interval import DeltaDataIntervalTimetable

from ctwatch import ingest
from ctwatch_airflow.defaults import DEFAULT_ARGS, WAREHOUSE_POOL
from ctwatch_airflow.runs import run_as_of, run_interval
from ctwatch_airflow.settings import data_dir, warehouse_path

GOOGLE_LOG_LIST = "https://www.gstatic.com/ct/log_list/v3/log_list.json"


def _config(params: dict[str, Any], backfill_window: tuple[datetime, datetime] | None) -> ingest.IngestConfig:
    return ingest.IngestConfig.from_mapping(params, backfill_window=backfill_window)


def _run_dir() -> Path:
    context = get_current_context()
    run_id = re.sub(r"[^A-Za-z0-9._-]", "_", context["run_id"])
    return data_dir() / "staging" / "ingest_ct_logs" / run_id


@dag(
    dag_id="ingest_ct_logs",
    schedule=DeltaDataIntervalTimetable(timedelta(minutes=15)),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ctwatch", "ct", "ingest"],
    doc_md=__doc__,
    params={
        "log_list": os.environ.get("CTWATCH_CT_LOG_LIST", GOOGLE_LOG_LIST),
        "new_logs_start": ingest.START_AT_HEAD,
        "log_ids": [],
        "watched_spki_sha256": [],
        "watched_der_sha256": [],
        "batch_size": 1000,
        "requests_per_second": 20.0,
        "concurrency": 2,
        "min_range_entries": 100_000,
        "max_ranges": 512,  # mapped fetch tasks per run; Airflow's max_map_length is 1024
    },
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
