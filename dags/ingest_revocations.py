"""Revocation evidence every 4 hours (`[intervals] ingest_revocations`): the CRLs of watched issuers
(plan, fetch, archive, findings), OCSP for certificates with open findings, one task per daily list
(CCADB, Mozilla's revoked intermediates, OneCRL, the CRLSet: fetched in the interval holding 00:00
UTC, and in any run while the warehouse has none from the last day); then the disagreements.

A source that cannot be fetched fails its own task, its error saying why, while the others go on; a
source disabled in ctwatch.toml skips. Stamps: a live fetch is stamped with the real fetch time;
only a simulator (`[stamping] mode = "simulated"`) gets data_interval_end as the request's as-of,
and its answers that stamp. The CRL fetch task opens no warehouse (it stages files under
<data dir>/crl), so it runs outside the `warehouse` pool.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import TriggerRule, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowException, AirflowSkipException
from airflow.timetables.interval import DeltaDataIntervalTimetable

from ctwatch.evaluate.plan_sources import plan_crl_scope
from ctwatch.revocation import watched_crls
from ctwatch.revocation.config import Source
from ctwatch.revocation.daily_lists import DAILY_LISTS, daily_list_due, ingest_daily_list
from ctwatch.revocation.disagreements import evaluate_disagreements
from ctwatch.revocation.ocsp_queries import query_ocsp_for_open_findings
from ctwatch_airflow.defaults import DEFAULT_ARGS, HISTORY_START, WAREHOUSE_POOL
from ctwatch_airflow.runs import run_as_of, run_interval
from ctwatch_airflow.settings import settings


def _as_of() -> datetime:
    return run_as_of(get_current_context())


def _enabled(source: Source) -> None:
    configured = settings()
    if not configured.sources.endpoint(source).enabled:
        raise AirflowSkipException(f"{source} is disabled ([sources.{source}] enabled = false)")


@dag(
    dag_id="ingest_revocations",
    schedule=DeltaDataIntervalTimetable(settings().interval("ingest_revocations")),
    start_date=HISTORY_START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ctwatch", "revocation"],
    doc_md=__doc__,
)
def ingest_revocations() -> None:
    @task(pool=WAREHOUSE_POOL)
    def daily_list(source: str) -> dict[str, object]:
        _enabled(Source(source))
        context = get_current_context()
        configured = settings()
        as_of = run_as_of(context)
        why = daily_list_due(configured.warehouse, Source(source), as_of, run_interval(context))
        if why is None:
            return {"fetched": False, "why": "a snapshot from the last day is stored"}
        summary = ingest_daily_list(configured.warehouse, configured.sources, Source(source), as_of=as_of)
        if summary.fetch_errors:
            raise AirflowException("; ".join(summary.fetch_errors))
        return {"fetched": True, "why": why, "snapshots": summary.snapshots, "sightings": summary.sightings}

    @task(pool=WAREHOUSE_POOL, trigger_rule=TriggerRule.ALL_DONE)
    def crl_plan() -> list[dict[str, Any]]:
        _enabled(Source.CRL)
        configured = settings()
        scope = plan_crl_scope(configured.declarations)
        return watched_crls.plan_crls(configured.warehouse, as_of=_as_of(), plans=scope)

    @task
    def crl_fetch(targets: list[dict[str, Any]]) -> str:
        as_of = _as_of()
        configured = settings()
        manifest = watched_crls.stage_crls(
            targets, configured.data_dir / "crl", configured.sources, as_of=as_of,
            manifest_name=f"ingest_revocations-{as_of:%Y%m%dT%H%M%SZ}",
        )  # fmt: skip
        return str(manifest)

    @task(pool=WAREHOUSE_POOL)
    def crl_archive(manifest: str) -> dict[str, object]:
        configured = settings()
        summary = watched_crls.archive_manifest(
            configured.warehouse, Path(manifest), as_of=_as_of(), crl_dir=configured.data_dir / "crl"
        )
        if summary.errors:
            raise AirflowException(
                f"{len(summary.errors)} of {summary.fetches} CRL fetches failed (recorded; the others "
                f"are archived): {'; '.join(summary.errors)}"
            )
        return {
            "fetches": summary.fetches,
            "new_versions": summary.new_versions,
            "not_modified": summary.not_modified,
            "findings_opened": summary.findings_opened,
        }

    @task(pool=WAREHOUSE_POOL)
    def ocsp_for_open_findings() -> dict[str, object]:
        _enabled(Source.OCSP)
        configured = settings()
        summary = query_ocsp_for_open_findings(configured.warehouse, configured.sources, as_of=_as_of())
        if summary.fetch_errors:
            raise AirflowException(
                f"{len(summary.fetch_errors)} OCSP queries failed: {'; '.join(summary.fetch_errors)}"
            )
        return {"snapshots": summary.snapshots, "record_errors": summary.record_errors}

    @task(pool=WAREHOUSE_POOL, trigger_rule=TriggerRule.ALL_DONE)
    def disagreements() -> dict[str, int]:
        stored = evaluate_disagreements(settings().warehouse, _as_of())
        return {"found": stored.found, "opened": stored.opened, "resolved": stored.resolved}

    # the run fails when a source did, after every other source and the disagreements had their turn
    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def every_source_answered() -> None:
        pass

    # CCADB first: its stored CRL URLs feed the plan
    plan = crl_plan()
    lists = [daily_list.override(task_id=f"daily_{source}")(str(source)) for source in DAILY_LISTS]
    lists >> plan
    archived = crl_archive(crl_fetch(plan))
    ocsp = ocsp_for_open_findings()
    compared = disagreements()
    [archived, ocsp] >> compared
    [*lists, archived, ocsp, compared] >> every_source_answered()


ingest_revocations()
