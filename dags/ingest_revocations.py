"""Revocation evidence every 4 hours: the CRLs of watched issuers (plan, fetch, archive, findings),
OCSP for certificates with open findings, and daily (in the interval holding 00:00 UTC) CCADB,
Mozilla's revoked intermediates, OneCRL and the CRLSet; then the disagreements between sources.

Stamps: a live fetch is stamped with the real fetch time; only a simulator (sources configured with
`simulated = true`) gets data_interval_end as the request's as-of, and its answers that stamp.
Findings and disagreements are evaluated as of data_interval_end. The CRL fetch task opens no
warehouse (it stages files under <data dir>/crl), so it runs outside the `warehouse` pool.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.interval import DeltaDataIntervalTimetable

from ctwatch.revocation import watched_crls
from ctwatch.revocation.config import load_source_locations
from ctwatch.revocation.daily_lists import ingest_daily_lists
from ctwatch.revocation.disagreements import evaluate_disagreements
from ctwatch.revocation.ocsp_queries import query_ocsp_for_open_findings
from ctwatch.timeutil import holds_midnight_utc
from ctwatch_airflow.defaults import DEFAULT_ARGS, WAREHOUSE_POOL
from ctwatch_airflow.runs import run_as_of, run_interval
from ctwatch_airflow.settings import data_dir, interval_from_env, warehouse_path


def _as_of() -> datetime:
    return run_as_of(get_current_context())


@dag(
    dag_id="ingest_revocations",
    schedule=DeltaDataIntervalTimetable(interval_from_env("CTWATCH_REVOCATION_INTERVAL", timedelta(hours=4))),
    start_date=datetime(2020, 1, 1, tzinfo=UTC),  # backfills replay history (the July 2020 incident)
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ctwatch", "revocation"],
    doc_md=__doc__,
)
def ingest_revocations() -> None:
    @task(pool=WAREHOUSE_POOL)
    def daily_lists() -> dict[str, object]:
        context = get_current_context()
        interval = run_interval(context)
        # a run without a data interval (triggered without a logical date) refreshes everything
        if interval is not None and not holds_midnight_utc(*interval):
            return {"skipped": "daily lists run in the interval that holds 00:00 UTC"}
        summary = ingest_daily_lists(warehouse_path(), load_source_locations(), as_of=run_as_of(context))
        return {"snapshots": summary.snapshots, "fetch_errors": summary.fetch_errors}

    @task(pool=WAREHOUSE_POOL)
    def crl_plan() -> list[dict[str, Any]]:
        return watched_crls.plan_crls(warehouse_path(), as_of=_as_of())

    @task
    def crl_fetch(targets: list[dict[str, Any]]) -> str:
        as_of = _as_of()
        manifest = watched_crls.stage_crls(
            targets, data_dir() / "crl", load_source_locations(), as_of=as_of,
            manifest_name=f"ingest_revocations-{as_of:%Y%m%dT%H%M%SZ}",
        )  # fmt: skip
        return str(manifest)

    @task(pool=WAREHOUSE_POOL)
    def crl_archive(manifest: str) -> dict[str, object]:
        summary = watched_crls.archive_manifest(
            warehouse_path(), Path(manifest), as_of=_as_of(), crl_dir=data_dir() / "crl"
        )
        return {
            "fetches": summary.fetches,
            "new_versions": summary.new_versions,
            "not_modified": summary.not_modified,
            "errors": list(summary.errors),
            "findings_opened": summary.findings_opened,
        }

    @task(pool=WAREHOUSE_POOL)
    def ocsp_for_open_findings() -> dict[str, object]:
        summary = query_ocsp_for_open_findings(warehouse_path(), load_source_locations(), as_of=_as_of())
        return {"snapshots": summary.snapshots, "record_errors": summary.record_errors}

    @task(pool=WAREHOUSE_POOL)
    def disagreements() -> dict[str, int]:
        stored = evaluate_disagreements(warehouse_path(), _as_of())
        return {"found": stored.found, "opened": stored.opened, "resolved": stored.resolved}

    # CCADB first: its stored CRL URLs feed the plan
    plan = crl_plan()
    daily_lists() >> plan
    archived = crl_archive(crl_fetch(plan))
    [archived, ocsp_for_open_findings()] >> disagreements()


ingest_revocations()
