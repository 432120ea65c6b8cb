"""The dashboard's snapshot: everything its pages show, as of one evaluation, in one SQLite file.

DuckDB lets one process write the warehouse and blocks readers in other processes meanwhile, so
the Airflow API server never opens the warehouse: after each evaluation a warehouse task builds
the snapshot beside the live one and renames it into place (atomic on one file system). A page
reads the file that is in place when it opens it; a reader of the previous file keeps it.

Incident downloads (appendix.csv, incident.md, plan_progress.csv and the plots) are the report
writer's bytes for the same evaluation, so they equal the files the report task writes.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import duckdb

from ctwatch import warehouse
from ctwatch.dashboard.reader import open_snapshot
from ctwatch.dashboard.sqlfiles import dashboard_sql
from ctwatch.evaluate import (
    EvaluationConfig,
    Incident,
    KeyGroupStatus,
    PlanProgress,
    PointKind,
    Verdict,
    incidents,
    key_group_status,
    latest_evaluation,
    read_plans,
    verdicts,
)
from ctwatch.evaluate.plan_progress import LateLeaf, ProgressPoint
from ctwatch.evaluate.verdict import Status
from ctwatch.report.bugs import LinkedBug, Unchecked, linked_bugs
from ctwatch.report.plan_progress import (
    baseline,
    crtsh_id_url,
    in_force_at_as_of,
    measurements,
    plan_versions,
    promises,
    shown,
)
from ctwatch.report.plots import delay_distribution_png
from ctwatch.report.writer import DELAY_PLOT_FILE, render_incident
from ctwatch.timeutil import iso_z, require_aware
from ctwatch.warehouse import load_sql, query_dicts

log = logging.getLogger(__name__)

SNAPSHOT_FILE: Final = "snapshot.sqlite"
ALERTS_KEPT: Final = 2000  # the newest outbox rows shown; the count of all is kept beside them
# The Incidents page's status columns, in the words a reviewer uses.
STATUS_COLUMNS: Final = {
    "on_time": (Status.REVOKED_ON_TIME, Status.REVOKED_BEFORE_START),
    "late": (Status.REVOKED_LATE,),
    "overdue": (Status.OVERDUE,),
    "pending": (Status.PENDING,),
    "expired": (Status.EXPIRED_UNREVOKED,),
}


@dataclass(frozen=True, slots=True)
class SnapshotSummary:
    path: Path
    evaluated_as_of: datetime | None
    incidents: int
    certificates: int
    seconds: float
    published: bool = True


def _published_as_of(target: Path) -> datetime | None:
    with open_snapshot(target) as reader:
        as_of = reader.meta().get("as_of") if reader else None
    return None if as_of is None else datetime.fromisoformat(as_of)


def snapshot_path(data_dir: Path) -> Path:
    return data_dir / "dashboard" / SNAPSHOT_FILE


def _t(moment: datetime | None) -> str | None:
    return None if moment is None else iso_z(moment)


def _s(delay: timedelta | None) -> float | None:
    return None if delay is None else delay.total_seconds()


def _next_deadline(own: Sequence[Verdict]) -> datetime | None:
    """The earliest deadline still ahead: of a certificate whose clock runs and is not settled."""
    ahead = [v.deadline for v in own if v.status is Status.PENDING and v.deadline is not None]
    return min(ahead, default=None)


def _bug_doc(bug: LinkedBug) -> dict[str, Any]:
    rhythm = bug.rhythm()
    rhythm_doc: dict[str, Any]
    if isinstance(rhythm, Unchecked):
        rhythm_doc = {"checked": False, "why": str(rhythm)}
    else:
        longest = rhythm.longest
        rhythm_doc = {
            "checked": True,
            "assignee": rhythm.assignee,
            "updates": [_t(u) for u in rhythm.updates],
            "checked_until": _t(rhythm.checked_until),
            "longest_gap_days": None if longest is None else longest.length.total_seconds() / 86400,
            "kept": rhythm.kept,
            "gaps_over_recommended": rhythm.gaps_over_recommended,
        }
    latest = bug.latest
    return {
        "id": bug.bug_id,
        "url": f"https://bugzilla.mozilla.org/show_bug.cgi?id={bug.bug_id}",
        "summary": bug.summary,
        "how_linked": bug.how_linked,
        "status": latest.status,
        "resolution": latest.resolution,
        "created": _t(bug.creation_time),
        "comments": len(bug.comments),
        "rhythm": rhythm_doc,
    }


def _key_group_doc(group: KeyGroupStatus) -> dict[str, Any]:
    return {
        "spki_sha256": group.spki_sha256,
        "members": group.members,
        "revoked": group.revoked,
        "expired": group.expired,
        "open": group.open,
        "late": group.late,
        "max_delay_s": _s(group.max_delay),
        "key_destruction_required": group.key_destruction_required,
        "key_destroyed_at": _t(group.key_destroyed_at),
        "key_destruction_auditor": group.key_destruction_auditor,
        "key_destruction_link": group.key_destruction_link,
        "status": str(group.status),
        "closed_at": _t(group.closed_at),
    }


def _certificate_doc(verdict: Verdict) -> dict[str, Any]:
    return {
        "der_sha256": verdict.der_sha256,
        "subject": verdict.subject,
        "serial_hex": verdict.serial_hex,
        "spki_sha256": verdict.spki_sha256,
        "kind": verdict.kind,
        "deadline": _t(verdict.deadline),
        "revoked_at_claimed": _t(verdict.revoked_at_claimed),
        "first_observed_revoked_at": _t(verdict.first_observed_revoked_at),
        "delay_s": _s(verdict.delay),
        "delay_max_s": _s(verdict.delay_max),
        "status": str(verdict.status),
        "basis": str(verdict.basis),
        "basis_text": verdict.basis_text,
    }


def _incident_doc(
    incident: Incident,
    own: Sequence[Verdict],
    groups: Sequence[KeyGroupStatus],
    bugs: Sequence[LinkedBug],
    disagreements: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    by_status = Counter(v.status for v in own)
    # late by at most, or overdue so far
    delays = [v.delay_max or v.delay for v in own if v.status in {Status.REVOKED_LATE, Status.OVERDUE}]
    return {
        "incident_id": incident.incident_id,
        "ca_owner": incident.ca_owner,
        "subordinate_ca_owners": list(incident.subordinate_ca_owners),
        "rule_id": incident.rule_id,
        "rule_citation": incident.rule_citation,
        "status": str(incident.status),
        "root_stores": list(incident.root_stores),
        "clock_start": _t(incident.clock_start),
        "clock_source": incident.clock_source_detail,
        "deadline": _t(incident.deadline),
        "window_citation": incident.window_citation,
        "key_destruction_required": incident.key_destruction_required,
        "certificates": len(own),
        "counts": {name: sum(by_status[s] for s in statuses) for name, statuses in STATUS_COLUMNS.items()},
        "next_deadline": _t(_next_deadline(own)),
        "max_delay_s": max((d.total_seconds() for d in delays if d is not None), default=None),
        "key_groups": [_key_group_doc(g) for g in groups],
        "bugs": [_bug_doc(b) for b in bugs],
        "disagreements": list(disagreements),
    }


def _ct_positions(
    con: duckdb.DuckDBPyConnection, certificates: Sequence[str], log_urls: Mapping[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Where CT shows each certificate (one query for all: one per certificate costs seconds)."""
    by_certificate: dict[str, list[dict[str, Any]]] = {}
    rows = con.execute(load_sql("dashboard/ct_positions"), {"der_sha256": list(certificates)}).fetchall()
    for der_sha256, kind, log_id, index, entry_at, leaf_hash, start, end, size, sth_at, root in rows:
        by_certificate.setdefault(der_sha256, []).append(
            {
                "kind": kind,
                "log_id": log_id,
                "log_url": log_urls.get(log_id),
                "entry_index": index,
                "entry_timestamp": _t(entry_at),
                "leaf_hash": leaf_hash,
                "covered": None if start is None else [start, end],
                "tree_size": size,
                "sth_timestamp": _t(sth_at),
                "root_hash": root,
            }
        )
    return by_certificate


def _evidence_doc(
    der_sha256: str,
    mine: Sequence[Verdict],
    incidents_by_id: Mapping[str, Incident],
    positions: Sequence[Mapping[str, Any]],
    bug_links: Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, Any]:
    first = mine[0]
    return {
        "der_sha256": der_sha256,
        "subject": first.subject,
        "issuer": first.issuer,
        "serial_hex": first.serial_hex,
        "not_before": _t(first.not_before),
        "not_after": _t(first.not_after),
        "ct": list(positions),
        "verdicts": [
            {
                **_certificate_doc(v),
                "incident_id": v.incident_id,
                "ca_owner": v.ca_owner,
                "rule_id": incidents_by_id[v.incident_id].rule_id,
                "rule_citation": incidents_by_id[v.incident_id].rule_citation,
                "clock_start": _t(incidents_by_id[v.incident_id].clock_start),
                "clock_source": incidents_by_id[v.incident_id].clock_source_detail,
                "bugs": list(bug_links.get(v.incident_id, ())),
                "deadline_basis": v.deadline_basis,
                "publish_by": _t(v.publish_by),
                "arithmetic": list(v.arithmetic),
                "bounds": list(v.bounds),
                "evidence": list(v.evidence),
                "findings": list(v.findings),
                "root_program_actions": list(v.root_program_actions),
            }
            for v in mine
        ],
    }


def _point_doc(point: ProgressPoint, late_leaves: int) -> dict[str, Any]:
    return {
        "kind": str(point.kind),
        "label": point.label,
        "at": _t(point.at),
        "plan_announced_at": _t(point.plan_announced_at),
        "plan_source": point.plan_source,
        "planned_percent": point.planned_percent,
        "planned_count": point.planned_count,
        "measured_percent": point.measured_percent,
        "difference_points": point.difference_points,
        "baseline": point.baseline,
        "remaining": point.remaining,
        "revoked": point.revoked,
        "expired": point.expired,
        "state": str(point.state),
        "explanation": list(point.explanation),
        "shown": shown(point, late_leaves),
    }


def _plan_doc(progress: PlanProgress) -> dict[str, Any]:
    in_force = in_force_at_as_of(progress)
    late_leaves = len(progress.late_leaves)
    return {
        "clock_start": _t(progress.clock_start),
        "issuer_keys": list(progress.issuer_keys),
        "baseline": baseline(progress),
        "behind_margin_points": progress.behind_margin_points,
        "versions": [
            {"announced_at": _t(announced_at), "source": source, "in_force": announced_at == in_force}
            for announced_at, source in plan_versions(progress)
        ],
        "population": list(progress.population),
        "late_leaf_count": late_leaves,
        "has_stop_issuance": any(p.kind is PointKind.STOP_ISSUANCE for p in progress.points),
        "measurements": [_point_doc(p, late_leaves) for p in measurements(progress)],
        "promises": [_point_doc(p, late_leaves) for p in promises(progress)],
    }


def _late_leaf_doc(leaf: LateLeaf) -> dict[str, Any]:
    ct = leaf.first_ct
    return {
        "stop_issuance": _t(leaf.stop_issuance),
        "issuer_key": leaf.issuer_key,
        "serial_hex": leaf.serial_hex,
        "not_before": _t(leaf.not_before),
        "not_after": _t(leaf.not_after),
        "ct": None
        if ct is None
        else {"log_id": ct.log_id, "entry_index": ct.entry_index, "entry_timestamp": _t(ct.timestamp)},
        "crtsh_id": leaf.crtsh_id,
        "crtsh_url": None if leaf.crtsh_id is None else crtsh_id_url(leaf.crtsh_id),
    }


def _disagreements(con: duckdb.DuckDBPyConnection, as_of: datetime) -> dict[str, list[dict[str, Any]]]:
    by_certificate: dict[str, list[dict[str, Any]]] = {}
    for row in query_dicts(con, "dashboard/disagreements", {"as_of": as_of}):
        by_certificate.setdefault(row["der_sha256"], []).append(
            {
                "der_sha256": row["der_sha256"],
                "kind": row["kind"],
                "first_found": _t(row["first_found_as_of"]),
            }
        )
    return by_certificate


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return iso_z(value)
    raise TypeError(f"{type(value).__name__} is not stored in the snapshot")


def _dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, default=_json_value)


def _write(target: Path, rows: Mapping[str, Iterable[Sequence[Any]]], meta: Mapping[str, str]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(temporary)) as db:
            db.executescript(dashboard_sql("schema"))
            db.executemany(dashboard_sql("insert_meta"), meta.items())
            for table, values in rows.items():
                db.executemany(dashboard_sql(f"insert_{table}"), values)
            db.commit()
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def build_snapshot(
    con: duckdb.DuckDBPyConnection, as_of: datetime, config: EvaluationConfig
) -> tuple[dict[str, str], dict[str, list[tuple[Any, ...]]]]:
    """(meta, rows by table) of the evaluation as of `as_of` (the latest at or before it)."""
    require_aware(as_of, "as_of")
    evaluated_as_of = latest_evaluation(con, as_of)
    meta = {"as_of": iso_z(as_of), "published_at": iso_z(datetime.now(UTC))}
    tables = (
        "incident",
        "certificate",
        "evidence",
        "file",
        "plan",
        "plan_late_leaf",
        "source",
        "ct_log",
        "alert",
    )
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in tables}
    shown = evaluated_as_of or as_of
    rows["source"] = [(_dumps(r),) for r in query_dicts(con, "dashboard/source_health", {"as_of": shown})]
    rows["ct_log"] = [(_dumps(r),) for r in query_dicts(con, "dashboard/ct_logs", {})]
    alerts = query_dicts(con, "dashboard/alerts", {"as_of": shown, "limit": ALERTS_KEPT})
    rows["alert"] = [(n, _dumps(r)) for n, r in enumerate(alerts)]
    if evaluated_as_of is None:
        return meta, rows
    meta["evaluated_as_of"] = iso_z(evaluated_as_of)
    all_verdicts = verdicts(con, evaluated_as_of)
    incidents_by_id = {i.incident_id: i for i in incidents(con, evaluated_as_of)}
    disagreements = _disagreements(con, evaluated_as_of)
    log_urls = {r["log_id"]: r["log_url"] for r in query_dicts(con, "dashboard/log_urls", {})}
    by_incident: dict[str, list[Verdict]] = {}
    by_certificate: dict[str, list[Verdict]] = {}
    for verdict in all_verdicts:
        by_incident.setdefault(verdict.incident_id, []).append(verdict)
        by_certificate.setdefault(verdict.der_sha256, []).append(verdict)
    declared = {d.incident_key: d for d in config.incidents}
    plans = read_plans(con, evaluated_as_of)
    bug_links: dict[str, list[dict[str, Any]]] = {}
    for incident_id, incident in sorted(incidents_by_id.items()):
        own = tuple(by_incident.get(incident_id, ()))
        groups = key_group_status(con, evaluated_as_of, incident_id)
        declaration = declared.get(incident.declared_id) if incident.declared_id else None
        bugs = linked_bugs(
            con, evaluated_as_of, incident.ca_owner, declaration.bug_ids if declaration else ()
        )
        own_disagreements = [d for v in own for d in disagreements.get(v.der_sha256, ())]
        doc = _incident_doc(incident, own, groups, bugs, own_disagreements)
        bug_links[incident_id] = [{"id": b["id"], "url": b["url"]} for b in doc["bugs"]]
        rows["incident"].append((incident_id, _dumps(doc)))
        rows["certificate"] += [(incident_id, v.der_sha256, _dumps(_certificate_doc(v))) for v in own]
        plan = plans.get(incident_id)
        if plan is not None:
            rows["plan"].append((incident_id, _dumps(_plan_doc(plan))))
            rows["plan_late_leaf"] += [
                (incident_id, n, _dumps(_late_leaf_doc(leaf))) for n, leaf in enumerate(plan.late_leaves)
            ]
        files = render_incident(
            con, incident, own, as_of=as_of, evaluated_as_of=evaluated_as_of, config=config, plan=plan
        )
        files[DELAY_PLOT_FILE] = delay_distribution_png({incident.ca_owner: own})
        rows["file"] += [(incident_id, name, content) for name, content in files.items()]
    positions = _ct_positions(con, list(by_certificate), log_urls)
    for der_sha256, mine in by_certificate.items():
        doc = _evidence_doc(der_sha256, mine, incidents_by_id, positions.get(der_sha256, ()), bug_links)
        rows["evidence"].append((der_sha256, _dumps(doc)))
    return meta, rows


def publish_snapshot(
    warehouse_file: Path, as_of: datetime, target: Path, *, config: EvaluationConfig
) -> SnapshotSummary:
    """Build the snapshot as of `as_of` from the warehouse and rename it into place at `target`,
    unless the snapshot in place is of a later as-of (a backfill of the past next to live runs
    leaves the dashboard on the present)."""
    started = time.monotonic()
    shown = _published_as_of(target)
    if shown is not None and shown > as_of:
        log.info("dashboard snapshot %s stays as of %s: later than %s", target, iso_z(shown), iso_z(as_of))
        return SnapshotSummary(target, None, 0, 0, time.monotonic() - started, published=False)
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        meta, rows = build_snapshot(con, as_of, config)
    finally:
        con.close()
    _write(target, rows, meta)
    evaluated = meta.get("evaluated_as_of")
    summary = SnapshotSummary(
        target,
        None if evaluated is None else datetime.fromisoformat(evaluated),
        len(rows["incident"]),
        len(rows["certificate"]),
        time.monotonic() - started,
    )
    log.info(
        "dashboard snapshot %s: %d incidents, %d certificate verdicts, evaluation as of %s, in %.1f s",
        target, summary.incidents, summary.certificates, evaluated or "none", summary.seconds,
    )  # fmt: skip
    return summary
