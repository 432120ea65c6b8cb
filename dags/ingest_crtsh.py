"""crt.sh identity searches (`[sources.crtsh] identities`), Bugzilla CA-compliance bugs and the
crt.sh history of the issuing CAs of declared plans, daily (`[intervals] ingest_crtsh`);
certificates crt.sh knows and ctwatch does not are downloaded.

Each source fails its own task when it cannot be reached (what was answered is stored first), and
skips when ctwatch.toml disables it.
"""

from __future__ import annotations

from airflow.sdk import TriggerRule, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowException, AirflowSkipException
from airflow.timetables.interval import DeltaDataIntervalTimetable

from ctwatch.evaluate.plan_sources import crtsh_history_targets
from ctwatch.revocation import bugzilla_bugs, crtsh_issuer_history, crtsh_searches
from ctwatch.revocation.config import Source
from ctwatch_airflow.defaults import DEFAULT_ARGS, HISTORY_START, WAREHOUSE_POOL
from ctwatch_airflow.runs import run_as_of
from ctwatch_airflow.settings import settings


@dag(
    dag_id="ingest_crtsh",
    schedule=DeltaDataIntervalTimetable(settings().interval("ingest_crtsh")),
    start_date=HISTORY_START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ctwatch", "crtsh"],
    doc_md=__doc__,
)
def ingest_crtsh() -> None:
    @task(pool=WAREHOUSE_POOL)
    def search() -> dict[str, object]:
        configured = settings()
        sources = configured.sources
        if not sources.endpoint(Source.CRTSH).enabled:
            raise AirflowSkipException("crtsh is disabled ([sources.crtsh] enabled = false)")
        end = run_as_of(get_current_context())
        summary = crtsh_searches.ingest_crtsh(
            configured.warehouse, sources, sources.crtsh_identities, as_of=end
        )
        if summary.unreachable:
            raise AirflowException(f"crt.sh did not answer: {'; '.join(summary.unreachable)}")
        return {
            "rows": summary.rows,
            "new_certificates": summary.new_certificates,
            "truncated": list(summary.truncated),
        }

    @task(pool=WAREHOUSE_POOL, trigger_rule=TriggerRule.ALL_DONE)
    def bugs() -> dict[str, int]:
        configured = settings()
        if not configured.sources.endpoint(Source.BUGZILLA).enabled:
            raise AirflowSkipException("bugzilla is disabled ([sources.bugzilla] enabled = false)")
        end = run_as_of(get_current_context())
        # the bugs declared incidents list get their comments fetched even without a delay tag
        linked = {bug_id for incident in configured.declarations.incidents for bug_id in incident.bug_ids}
        summary = bugzilla_bugs.ingest_bugzilla(
            configured.warehouse, configured.sources, as_of=end, linked_bug_ids=linked
        )
        if summary.unreachable:
            raise AirflowException(f"Bugzilla did not answer: {'; '.join(summary.unreachable)}")
        return {
            "new_bug_rows": summary.new_bug_rows,
            "comment_fetches": summary.comment_fetches,
            "new_comments": summary.new_comments,
            "errors": summary.errors,
        }

    @task(pool=WAREHOUSE_POOL, trigger_rule=TriggerRule.ALL_DONE)
    def plan_history() -> dict[str, int]:
        configured = settings()
        targets = crtsh_history_targets(configured.declarations)
        if not targets:
            raise AirflowSkipException("no declared plan names a crt.sh CA id ([[plans]] crtsh_ca_ids)")
        if not configured.sources.endpoint(Source.CRTSH).enabled:
            raise AirflowSkipException("crtsh is disabled ([sources.crtsh] enabled = false)")
        end = run_as_of(get_current_context())
        summary = crtsh_issuer_history.ingest_issuer_history(
            configured.warehouse, configured.sources, targets, as_of=end
        )
        if summary.unreachable:
            raise AirflowException(f"crt.sh did not answer: {'; '.join(summary.unreachable)}")
        return {
            "searched": summary.searched,
            "complete_already": summary.skipped_complete,
            "rows": summary.rows,
        }

    # the run fails when a source did, after the other had its turn
    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def every_source_answered() -> None:
        pass

    searched, fetched, history = search(), bugs(), plan_history()
    searched >> fetched >> history
    [searched, fetched, history] >> every_source_answered()


ingest_crtsh()
