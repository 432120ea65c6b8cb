"""Evaluate the compliance clock hourly (`[intervals] evaluate_compliance`): incidents, deadlines,
verdicts and alert events as of the interval end, then the reports, and the source-health alerts
(a source failing for longer than `[alerts] source_down_after`, and its recovery). Runs with or
without new data: a deadline passes by itself. Last, the dashboard's snapshot of the evaluation.

Run conf `{"reports_from": "<ISO 8601 time>"}`: intervals ending before it evaluate but write no
reports and publish no dashboard snapshot. A backfill of a past incident passes its last interval
end, so the reports are written once, as of the end, instead of once per interval only to be
overwritten by the next one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.interval import DeltaDataIntervalTimetable

from ctwatch.alerts.source_health import enqueue_source_alerts
from ctwatch.evaluate import task as compliance_task
from ctwatch_airflow.defaults import DEFAULT_ARGS, HISTORY_START, WAREHOUSE_POOL
from ctwatch_airflow.runs import reports_from, run_as_of
from ctwatch_airflow.settings import settings


@dag(
    dag_id="evaluate_compliance",
    # An explicit interval timetable: data_interval_end is the as-of of the evaluation, and a
    # backfill over past intervals replays history (its alerts are marked historical).
    schedule=DeltaDataIntervalTimetable(settings().interval("evaluate_compliance")),
    start_date=HISTORY_START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ctwatch", "compliance"],
    doc_md=__doc__,
)
def evaluate_compliance() -> None:
    @task(pool=WAREHOUSE_POOL)
    def evaluate() -> dict[str, int]:
        as_of = run_as_of(get_current_context())
        configured = settings()
        summary = compliance_task.evaluate_compliance(
            configured.warehouse,
            as_of,
            config=configured.declarations,
            overdue_digest_period=configured.alerts.overdue_digest_period,
        )
        return {
            "incidents": summary.incidents,
            "verdicts": summary.verdicts,
            "out_of_scope": summary.out_of_scope,
        }

    @task(pool=WAREHOUSE_POOL)
    def report() -> dict[str, object]:
        # appendix.csv, incident.md and plots per incident, rewritten only where they changed
        context = get_current_context()
        as_of = run_as_of(context)
        if (start := reports_from(context)) and as_of < start:
            return {"skipped": f"reports are written from {start} (run conf reports_from)"}
        # Here, not at the top: matplotlib's import (1.4 s measured) would be paid by every task
        # and every parse of this file.
        from ctwatch.report import write_reports  # noqa: PLC0415

        configured = settings()
        summary = write_reports(
            configured.warehouse, as_of, configured.data_dir / "reports", config=configured.declarations
        )
        return {"incidents": summary.incidents, "files_changed": summary.files_changed}

    @task(pool=WAREHOUSE_POOL)
    def publish_dashboard() -> dict[str, object]:
        # what the Compliance pages show: read by the API server, which never opens the warehouse
        context = get_current_context()
        as_of = run_as_of(context)
        if (start := reports_from(context)) and as_of < start:
            return {"skipped": f"published from {start} (run conf reports_from)"}
        from ctwatch.dashboard.snapshot import publish_snapshot, snapshot_path  # noqa: PLC0415 - matplotlib

        configured = settings()
        summary = publish_snapshot(
            configured.warehouse, as_of, snapshot_path(configured.data_dir), config=configured.declarations
        )
        return {"published": summary.published, "incidents": summary.incidents}

    @task(pool=WAREHOUSE_POOL)
    def source_health() -> dict[str, int]:
        configured = settings()
        as_of = run_as_of(get_current_context())
        added = enqueue_source_alerts(
            configured.warehouse, as_of, configured.alerts.source_down_after, now=datetime.now(UTC)
        )
        return {"alerts": added}

    evaluated = evaluate()
    evaluated >> report()
    [evaluated, source_health()] >> publish_dashboard()


evaluate_compliance()
