"""crt.sh identity searches (configured identities, `CTWATCH_CRTSH_IDENTITIES`, comma-separated) and
Bugzilla CA-compliance bugs, daily; certificates crt.sh knows and ctwatch does not are downloaded."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.interval import DeltaDataIntervalTimetable

from ctwatch.evaluate.config import load_config
from ctwatch.revocation import bugzilla_bugs, crtsh_searches
from ctwatch.revocation.config import load_source_locations
from ctwatch_airflow.defaults import DEFAULT_ARGS, WAREHOUSE_POOL
from ctwatch_airflow.runs import run_as_of
from ctwatch_airflow.settings import evaluation_config_file, interval_from_env, warehouse_path


@dag(
    dag_id="ingest_crtsh",
    schedule=DeltaDataIntervalTimetable(interval_from_env("CTWATCH_CRTSH_INTERVAL", timedelta(days=1))),
    start_date=datetime(2020, 1, 1, tzinfo=UTC),  # backfills replay history (the July 2020 incident)
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ctwatch", "crtsh"],
    doc_md=__doc__,
)
def ingest_crtsh() -> None:
    @task(pool=WAREHOUSE_POOL)
    def search() -> dict[str, object]:
        identities = [
            i.strip() for i in os.environ.get("CTWATCH_CRTSH_IDENTITIES", "").split(",") if i.strip()
        ]
        end = run_as_of(get_current_context())
        summary = crtsh_searches.ingest_crtsh(
            warehouse_path(), load_source_locations(), identities, as_of=end
        )
        return {
            "rows": summary.rows,
            "new_certificates": summary.new_certificates,
            "truncated": list(summary.truncated),
        }

    @task(pool=WAREHOUSE_POOL)
    def bugs() -> dict[str, int]:
        end = run_as_of(get_current_context())
        # the bugs declared incidents list get their comments fetched even without a delay tag
        declared = load_config(evaluation_config_file()).incidents
        linked = {bug_id for incident in declared for bug_id in incident.bug_ids}
        summary = bugzilla_bugs.ingest_bugzilla(
            warehouse_path(), load_source_locations(), as_of=end, linked_bug_ids=linked
        )
        return {
            "new_bug_rows": summary.new_bug_rows,
            "comment_fetches": summary.comment_fetches,
            "new_comments": summary.new_comments,
            "errors": summary.errors,
        }

    search() >> bugs()


ingest_crtsh()
