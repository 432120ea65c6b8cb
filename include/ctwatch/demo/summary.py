"""The table `make demo` ends with: per CA owner, from the stored evaluation (ctwatch.evaluate.read)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ctwatch import warehouse
from ctwatch.evaluate import PointKind, PointState, read, read_plans
from ctwatch.evaluate.verdict import Status

_OPEN = frozenset({Status.PENDING, Status.OVERDUE})
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class OwnerSummary:
    ca_owner: str
    certificates: int  # certificates of the owner's incidents (roots included, listed only)
    revoked_on_time: int
    revoked_late: int
    max_delay_days: float | None  # the largest delay of a late or overdue certificate
    still_open: int  # pending or overdue at the as-of
    evaluated_as_of: datetime


def summarize(warehouse_file: Path, as_of: datetime) -> list[OwnerSummary]:
    """One row per CA owner from the latest evaluation at or before `as_of` (empty if none)."""
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        evaluated = read.latest_evaluation(con, as_of)
        verdicts = read.verdicts(con, evaluated) if evaluated else []
    finally:
        con.close()
    if evaluated is None:
        return []
    rows = []
    for owner in sorted({v.ca_owner for v in verdicts}):
        mine = [v for v in verdicts if v.ca_owner == owner]
        delays = [v.delay.total_seconds() for v in mine if v.delay is not None]
        rows.append(
            OwnerSummary(
                ca_owner=owner,
                certificates=len(mine),
                revoked_on_time=sum(v.status is Status.REVOKED_ON_TIME for v in mine),
                revoked_late=sum(v.status is Status.REVOKED_LATE for v in mine),
                max_delay_days=round(max(delays) / _SECONDS_PER_DAY, 1) if delays else None,
                still_open=sum(v.status in _OPEN for v in mine),
                evaluated_as_of=evaluated,
            )
        )
    return rows


def format_table(rows: list[OwnerSummary]) -> str:
    """A plain-text table, one line per owner, aligned for a terminal."""
    header = ("CA owner", "certificates", "on time", "late", "max delay (days)", "still open")
    cells = [
        (
            r.ca_owner,
            str(r.certificates),
            str(r.revoked_on_time),
            str(r.revoked_late),
            "-" if r.max_delay_days is None else f"{r.max_delay_days:.1f}",
            str(r.still_open),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]

    def render(line: tuple[str, ...]) -> str:
        first = line[0].ljust(widths[0])
        return "  ".join(
            [first, *(cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True))]
        )

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([render(header), rule, *(render(line) for line in cells)])


def alert_counts(replay_file: Path) -> Counter[str]:
    """Alerts in the replay sink (historical alerts) by transition; unreadable lines are skipped."""
    counts: Counter[str] = Counter()
    if not replay_file.exists():
        return counts
    for raw in replay_file.read_bytes().splitlines():
        try:
            counts[str(json.loads(raw)["alert"]["event"]["transition"])] += 1
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash (the sink resends that alert)
    return counts


def format_alert_counts(counts: Counter[str]) -> str:
    if not counts:
        return "no historical alerts"
    return ", ".join(f"{transition} {count}" for transition, count in sorted(counts.items()))


def plan_lines(warehouse_file: Path, as_of: datetime) -> list[str]:
    """Per incident with a declared plan, at the latest evaluation by `as_of`: each milestone due
    so far with planned against measured, and the leaves issued after the stop date."""
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        evaluated = read.latest_evaluation(con, as_of)
        plans = read_plans(con, evaluated) if evaluated else {}
    finally:
        con.close()
    lines = []
    for incident_id, progress in sorted(plans.items()):
        lines.append(f"{incident_id}: plan vs evidence (baseline, replaced = revoked or expired)")
        for point in progress.points:
            if point.kind is PointKind.MILESTONE and point.measured_percent is not None:
                lines.append(
                    f"  {point.label}: planned {point.planned_percent:5.1f}%  measured "
                    f"{point.measured_percent:5.1f}% of {point.baseline}  {point.state}"
                )
            elif point.kind is PointKind.STOP_ISSUANCE:
                late = len(progress.late_leaves)
                lines.append(f"  stop issuance {point.label}: {point.state}, {late} leaves issued after it")
            elif point.kind is PointKind.KEY_DESTRUCTION and point.state is not PointState.NOT_DUE:
                lines.append(f"  key destruction by {point.label}: {point.state}")
    return lines
