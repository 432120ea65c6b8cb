"""Send the alert outbox: live alerts to Slack, e-mail, the JSON webhook; historical ones to the replay file.

Each (alert, channel) is delivered once: a failed send makes the task fail after recording what
did go out, and Airflow's retry resends only the rest.
"""

from __future__ import annotations

from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowException
from airflow.timetables.interval import DeltaDataIntervalTimetable

from ctwatch.alerts import deliver_pending
from ctwatch_airflow import notifications
from ctwatch_airflow.defaults import DEFAULT_ARGS, HISTORY_START, WAREHOUSE_POOL
from ctwatch_airflow.settings import settings, warehouse_path


@dag(
    dag_id="send_alerts",
    # Sending needs no as-of; the interval only sets the pace (the evaluator runs hourly).
    schedule=DeltaDataIntervalTimetable(settings().interval("send_alerts")),
    start_date=HISTORY_START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ctwatch", "alerts"],
    doc_md=__doc__,
)
def send_alerts() -> None:
    @task(pool=WAREHOUSE_POOL)
    def send() -> dict[str, int]:
        summary = deliver_pending(
            warehouse_path(), notifications.live_channels(), notifications.replay_sink()
        )
        if summary.failed:
            raise AirflowException(f"{summary.failed} alert deliveries failed: {'; '.join(summary.errors)}")
        return {"sent": summary.sent, "deferred": summary.deferred}

    send()


send_alerts()
