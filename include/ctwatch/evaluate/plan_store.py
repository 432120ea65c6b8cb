"""Plan progress in the warehouse: written with its evaluation's rows, read back for reports and the
dashboard, and its alert events (a milestone behind plan, a leaf issued after the stop date)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from ctwatch.alerts import AlertEvent, AlertFacts, Transition
from ctwatch.evaluate.model import Incident
from ctwatch.evaluate.plan_progress import (
    CtEntry,
    LateLeaf,
    PlanProgress,
    PointKind,
    PointState,
    ProgressPoint,
)
from ctwatch.timeutil import iso_z, utc_or_none
from ctwatch.warehouse import load_sql, query_dicts


def save_plans(con: duckdb.DuckDBPyConnection, as_of: datetime, progresses: Sequence[PlanProgress]) -> None:
    """Replace the plan rows of `as_of` (inside the caller's transaction)."""
    for table in ("plan_runs", "plan_progress", "plan_late_issuance"):
        con.execute(load_sql(f"plans/delete_{table}"), {"as_of": as_of})
    for progress in progresses:
        con.execute(
            load_sql("plans/insert_plan_run"),
            {
                "as_of": as_of,
                "incident_id": progress.incident_id,
                "clock_start": progress.clock_start,
                "issuer_keys": list(progress.issuer_keys),
                "behind_margin_points": progress.behind_margin_points,
                "population": list(progress.population),
            },
        )
        if progress.points:
            con.executemany(
                load_sql("plans/insert_progress"),
                [_progress_row(progress, position, point) for position, point in enumerate(progress.points)],
            )
        if progress.late_leaves:
            con.executemany(
                load_sql("plans/insert_late_issuance"),
                [_late_row(as_of, progress.incident_id, leaf) for leaf in progress.late_leaves],
            )


def _progress_row(progress: PlanProgress, position: int, point: ProgressPoint) -> dict[str, Any]:
    return {
        "as_of": progress.as_of,
        "incident_id": progress.incident_id,
        "position": position,
        "kind": str(point.kind),
        "measured_at": point.at,
        "label": point.label,
        "plan_announced_at": point.plan_announced_at,
        "plan_source": point.plan_source,
        "planned_percent": point.planned_percent,
        "planned_count": point.planned_count,
        "measured_percent": point.measured_percent,
        "baseline": point.baseline,
        "remaining": point.remaining,
        "revoked": point.revoked,
        "expired": point.expired,
        "state": str(point.state),
        "explanation": list(point.explanation),
    }


def _late_row(as_of: datetime, incident_id: str, leaf: LateLeaf) -> dict[str, Any]:
    ct = leaf.first_ct
    return {
        "as_of": as_of,
        "incident_id": incident_id,
        "stop_issuance": leaf.stop_issuance,
        "issuer_spki_sha256": leaf.issuer_key,
        "serial_hex": leaf.serial_hex,
        "not_before": leaf.not_before,
        "not_after": leaf.not_after,
        "log_id": ct.log_id if ct else None,
        "entry_index": ct.entry_index if ct else None,
        "entry_timestamp": ct.timestamp if ct else None,
        "crtsh_id": leaf.crtsh_id,
    }


def read_plans(con: duckdb.DuckDBPyConnection, as_of: datetime) -> dict[str, PlanProgress]:
    """The plan progress stored for `as_of`, by incident id."""
    points: dict[str, list[ProgressPoint]] = {}
    for row in query_dicts(con, "plans/select_progress", {"as_of": as_of}):
        points.setdefault(row["incident_id"], []).append(
            ProgressPoint(
                kind=PointKind(row["kind"]),
                at=row["measured_at"].astimezone(UTC),
                label=row["label"],
                plan_announced_at=utc_or_none(row["plan_announced_at"]),
                plan_source=row["plan_source"],
                planned_percent=row["planned_percent"],
                planned_count=row["planned_count"],
                measured_percent=row["measured_percent"],
                baseline=row["baseline"],
                remaining=row["remaining"],
                revoked=row["revoked"],
                expired=row["expired"],
                state=PointState(row["state"]),
                explanation=tuple(row["explanation"]),
            )
        )
    late: dict[str, list[LateLeaf]] = {}
    for row in query_dicts(con, "plans/select_late_issuance", {"as_of": as_of}):
        ct = (
            CtEntry(row["log_id"], row["entry_index"], row["entry_timestamp"].astimezone(UTC))
            if row["log_id"] is not None
            else None
        )
        late.setdefault(row["incident_id"], []).append(
            LateLeaf(
                stop_issuance=row["stop_issuance"].astimezone(UTC),
                issuer_key=row["issuer_spki_sha256"],
                serial_hex=row["serial_hex"],
                not_before=row["not_before"].astimezone(UTC),
                not_after=row["not_after"].astimezone(UTC),
                first_ct=ct,
                crtsh_id=row["crtsh_id"],
            )
        )
    return {
        row["incident_id"]: PlanProgress(
            incident_id=row["incident_id"],
            as_of=as_of,
            clock_start=row["clock_start"].astimezone(UTC),
            issuer_keys=tuple(row["issuer_keys"]),
            points=tuple(points.get(row["incident_id"], ())),
            late_leaves=tuple(late.get(row["incident_id"], ())),
            behind_margin_points=row["behind_margin_points"],
            population=tuple(row["population"]),
        )
        for row in query_dicts(con, "plans/select_runs", {"as_of": as_of})
    }


def plan_events(
    progresses: Iterable[PlanProgress], incidents: Mapping[str, Incident], historical: bool
) -> Iterator[AlertEvent]:
    """One plan_behind per milestone found behind (its key names the plan version and the due
    instant), and one issued_after_stop per stop date, raised with its first leaf."""
    for progress in progresses:
        incident = incidents[progress.incident_id]
        for point in progress.points:
            if point.kind is PointKind.MILESTONE and point.state is PointState.BEHIND:
                assert point.plan_announced_at is not None
                assert point.difference_points is not None
                yield _event(
                    incident, progress, Transition.PLAN_BEHIND, historical,
                    plan_point=f"{iso_z(point.plan_announced_at)}/{iso_z(point.at)}",
                    deadline=point.at,
                    evidence=(
                        f"planned {point.planned_percent:.1f}% replaced, measured "
                        f"{point.measured_percent:.1f}% ({point.remaining} of {point.baseline} leaves "
                        f"still in the wild): {-point.difference_points:.1f} points behind, "
                        f"margin {progress.behind_margin_points:g}"
                    ),
                )  # fmt: skip
        if progress.late_leaves:
            first = progress.late_leaves[0]
            yield _event(
                incident, progress, Transition.ISSUED_AFTER_STOP, historical,
                plan_point=f"stop-{iso_z(first.stop_issuance)}",
                deadline=first.stop_issuance,
                serial_hex=first.serial_hex,
                evidence=f"notBefore {iso_z(first.not_before)}, {first.where}",
            )  # fmt: skip


def _event(
    incident: Incident,
    progress: PlanProgress,
    transition: Transition,
    historical: bool,
    *,
    plan_point: str,
    deadline: datetime,
    evidence: str,
    serial_hex: str | None = None,
) -> AlertEvent:
    return AlertEvent(
        incident_id=incident.incident_id,
        der_sha256=None,
        transition=transition,
        occurred_at=progress.as_of,
        historical=historical,
        facts=AlertFacts(
            ca_owner=incident.ca_owner,
            subordinate_ca_owner=", ".join(incident.subordinate_ca_owners) or None,
            rule_id=incident.rule_id,
            serial_hex=serial_hex,
            deadline=deadline,
            clock_started_at=incident.clock_start,
            clock_source=incident.clock_source_detail,
            evidence=evidence,
        ),
        plan_point=plan_point,
    )
