"""Run the compliance rule registry over every certificate in the warehouse, hourly
(`[intervals] evaluate_rules`)."""

from __future__ import annotations

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.interval import DeltaDataIntervalTimetable

from ctwatch import rule_runs
from ctwatch_airflow.defaults import DEFAULT_ARGS, HISTORY_START, WAREHOUSE_POOL
from ctwatch_airflow.runs import run_as_of
from ctwatch_airflow.settings import settings, warehouse_path


@dag(
    dag_id="evaluate_rules",
    # An explicit interval timetable: data_interval_end is the as-of date of the evaluation.
    schedule=DeltaDataIntervalTimetable(settings().interval("evaluate_rules")),
    start_date=HISTORY_START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ctwatch", "rules"],
    doc_md=__doc__,
)
def evaluate_rules() -> None:
    @task(pool=WAREHOUSE_POOL)
    def evaluate() -> dict[str, int]:
        as_of = run_as_of(get_current_context())
        summary = rule_runs.evaluate_rules(warehouse_path(), as_of)
        return {"certificates": summary.certificates, "findings": summary.findings}

    evaluate()


evaluate_rules()
