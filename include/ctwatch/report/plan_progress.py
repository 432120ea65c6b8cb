"""A declared plan against the evidence, as the evaluator measured it (`ctwatch.evaluate.read_plans`):
the figures in words for incident.md and the dashboard, and plan_progress.csv.

The points split in two: measurements (each month end and the as-of: the replaced share at that
instant against what the plan in force then promised) and promises (each milestone of each plan
version, the stop-issuance and the key-destruction date, with whether each was kept).

CSV: RFC 4180 (comma, CRLF), UTF-8, one row per point in the evaluator's order; text cells are
guarded against formula injection as in appendix.csv, numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Final

from ctwatch.evaluate import PlanProgress, PointKind, PointState
from ctwatch.evaluate.plan_progress import ProgressPoint
from ctwatch.report.appendix import defuse_formula
from ctwatch.timeutil import iso_z

PLAN_COLUMNS: Final = (
    "kind", "label", "measured_at", "plan_announced_at", "plan_source", "planned_percent",
    "measured_percent", "difference_points", "baseline", "remaining", "revoked", "expired", "state",
    "explanation",
)  # fmt: skip
_MEASUREMENT_KINDS: Final = frozenset({PointKind.MONTH_END, PointKind.AS_OF})
# Leaves issued after the stop date listed one by one; more are counted (every one is in the warehouse).
MAX_LATE_LEAVES_LISTED: Final = 50
EXPLANATION_SEPARATOR: Final = " | "
NONE_SHOWN: Final = "—"
CRTSH_ID_URL: Final = "https://crt.sh/?id={crtsh_id}"


def measurements(progress: PlanProgress) -> list[ProgressPoint]:
    return [p for p in progress.points if p.kind in _MEASUREMENT_KINDS]


def promises(progress: PlanProgress) -> list[ProgressPoint]:
    return [p for p in progress.points if p.kind not in _MEASUREMENT_KINDS]


def baseline(progress: PlanProgress) -> int:
    """The leaves in the wild at the clock start (every point carries the same)."""
    return progress.points[0].baseline if progress.points else 0


def plan_versions(progress: PlanProgress) -> list[tuple[datetime, str]]:
    """(announced at, source) of each plan version the points name, earliest first."""
    return sorted(
        {
            (p.plan_announced_at, p.plan_source)
            for p in progress.points
            if p.plan_announced_at is not None and p.plan_source is not None
        }
    )


def in_force_at_as_of(progress: PlanProgress) -> datetime | None:
    """The announcement time of the version the last measurement (the as-of) was held to."""
    shown = measurements(progress)
    return shown[-1].plan_announced_at if shown else None


def percent_text(value: float | None) -> str:
    return NONE_SHOWN if value is None else f"{value:.1f}%"


def difference_text(value: float | None) -> str:
    """Signed percentage points, e.g. '-4.0' (behind) or '+1.5'."""
    return NONE_SHOWN if value is None else f"{round(value, 1) + 0.0:+.1f}"  # + 0.0: no "-0.0"


def state_text(state: PointState) -> str:
    return state.value.replace("_", " ")


def milestone_label(point: ProgressPoint) -> str:
    if point.kind is PointKind.STOP_ISSUANCE:
        return f"stop issuance ({point.label})"
    if point.kind is PointKind.KEY_DESTRUCTION:
        return f"key destruction ({point.label})"
    return point.label


def planned_text(point: ProgressPoint) -> str:
    if point.kind is PointKind.STOP_ISSUANCE:
        return "no leaf issued after it"
    if point.kind is PointKind.KEY_DESTRUCTION:
        return f"{point.planned_count} key(s) destroyed"
    if point.planned_count is not None:
        share = "" if point.planned_percent is None else f" ({percent_text(point.planned_percent)})"
        return f"{point.planned_count} leaves replaced{share}"
    return percent_text(point.planned_percent)


def measured_text(point: ProgressPoint, late_leaves: int) -> str:
    """The measured share with what remains of the baseline; for the stop date, the leaves after it."""
    if point.kind is PointKind.STOP_ISSUANCE:
        return f"{late_leaves} issued after it"
    if point.measured_percent is None:
        return NONE_SHOWN
    return f"{percent_text(point.measured_percent)} ({remaining_text(point)} remain)"


def remaining_text(point: ProgressPoint) -> str:
    return NONE_SHOWN if point.remaining is None else f"{point.remaining} of {point.baseline}"


def count_text(value: int | None) -> str:
    return NONE_SHOWN if value is None else str(value)


def crtsh_id_url(crtsh_id: int) -> str:
    return CRTSH_ID_URL.format(crtsh_id=crtsh_id)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def plan_progress_csv(progress: PlanProgress) -> bytes:
    """plan_progress.csv: a header, then one row per point."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(PLAN_COLUMNS)
    for p in progress.points:
        # the label, the plan's source and the explanation come from storage: guarded
        writer.writerow(
            [
                p.kind.value, defuse_formula(p.label), iso_z(p.at),
                "" if p.plan_announced_at is None else iso_z(p.plan_announced_at),
                defuse_formula(p.plan_source or ""), _number(p.planned_percent), _number(p.measured_percent),
                _number(p.difference_points), p.baseline, _count(p.remaining), _count(p.revoked),
                _count(p.expired), p.state.value, defuse_formula(EXPLANATION_SEPARATOR.join(p.explanation)),
            ]
        )  # fmt: skip
    return buffer.getvalue().encode("utf-8")


def shown(point: ProgressPoint, late_leaves: int) -> dict[str, str]:
    """A point's figures in incident.md's words, for the report's tables and the dashboard."""
    return {
        "milestone": milestone_label(point),
        "planned": planned_text(point),
        "measured": measured_text(point, late_leaves),
        "difference": difference_text(point.difference_points),
        "state": state_text(point.state),
        "planned_percent": percent_text(point.planned_percent),
        "measured_percent": percent_text(point.measured_percent),
        "remaining": remaining_text(point),
        "revoked": count_text(point.revoked),
        "expired": count_text(point.expired),
    }
