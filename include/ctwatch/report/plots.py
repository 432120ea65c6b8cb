"""PNG plots of a report, drawn with matplotlib's Agg renderer (no display).

Deterministic: fixed size and DPI, the default style whatever the local matplotlibrc says, no
jitter from a random source, and PNG metadata without a time stamp (matplotlib writes only its
`Software` text), so the same data give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import matplotlib.dates as mdates
import matplotlib.style
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ctwatch.evaluate import Incident, PlanProgress, PointKind, PointState, Status, Verdict
from ctwatch.report.plan_progress import baseline, milestone_label
from ctwatch.report.progress import clocked, revoked_at

FIGURE_SIZE_IN: Final = (9.0, 5.0)
DPI: Final = 100
MAX_LABEL_CHARS: Final = 40
_DAY_S: Final = 86_400.0
# The statuses whose delay the distribution shows; on-time revocations count as 0 days.
_DELAYED: Final = frozenset({Status.REVOKED_LATE, Status.OVERDUE, Status.EXPIRED_UNREVOKED})
# Milestone markers by state: (legend label, colour, marker, size); behind stands out.
_MILESTONE_STYLE: Final = {
    PointState.ON_PLAN: ("milestone on plan", "tab:green", "D", 40),
    PointState.WITHIN_MARGIN: ("milestone within the margin", "tab:orange", "D", 40),
    PointState.BEHIND: ("milestone behind", "tab:red", "X", 110),
    PointState.SUPERSEDED: ("milestone superseded", "tab:gray", "d", 30),
}


def plain_label(text: str) -> str:
    """Text for a matplotlib label: no mathtext (`$`), no line breaks, bounded length."""
    flat = " ".join(text.split())
    if len(flat) > MAX_LABEL_CHARS:
        flat = flat[: MAX_LABEL_CHARS - 1] + "…"
    return flat.replace("$", r"\$")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _day_number(moment: datetime) -> float:
    """matplotlib's date number (days since its epoch) of a UTC time."""
    return float(mdates.date2num(moment))  # type: ignore[no-untyped-call]


def _date_axis(axes: Axes) -> None:
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d", tz=UTC))  # type: ignore[no-untyped-call]


def revocation_progress_png(incident: Incident, verdicts: Sequence[Verdict], as_of: datetime) -> bytes:
    """Cumulative revocations over time by claimed and by first-observed time, against the deadline."""
    waited = clocked(verdicts)
    claimed = [t for t in (revoked_at(v) for v in waited) if t is not None]
    observed = [
        v.first_observed_revoked_at
        for v in waited
        if revoked_at(v) is not None and v.first_observed_revoked_at is not None
    ]
    with matplotlib.style.context("default"):
        figure = Figure(figsize=FIGURE_SIZE_IN, dpi=DPI)
        axes = figure.add_subplot()
        start = min([*claimed, *observed, incident.clock_start or as_of, as_of])
        for moments, label, style in (
            (claimed, "revoked (claimed time)", "-"),
            (observed, "revoked (first observed by ctwatch)", "--"),
        ):
            xs = [_day_number(t) for t in sorted(moments)]
            # a step curve from 0 at the start to the count at the as-of
            axes.step(
                [_day_number(start), *xs, _day_number(as_of)],
                [0, *range(1, len(xs) + 1), len(xs)],
                where="post",
                linestyle=style,
                label=label,
            )
        axes.axhline(
            len(waited), color="grey", linewidth=0.8, label=f"certificates to revoke ({len(waited)})"
        )
        if incident.clock_start is not None:
            axes.axvline(
                _day_number(incident.clock_start), color="tab:green", linestyle=":", label="clock start"
            )
        if incident.deadline is not None:
            axes.axvline(_day_number(incident.deadline), color="tab:red", label="deadline")
        axes.set_ylim(0, max(len(waited), 1) * 1.08)
        axes.set_ylabel("certificates revoked")
        axes.set_xlabel("time (UTC)")
        axes.set_title(plain_label(f"Revocation progress: {incident.ca_owner}"))
        _date_axis(axes)
        figure.autofmt_xdate()
        axes.legend(loc="lower right", fontsize="small")
        figure.tight_layout()
        return _png(figure)


def delay_days(verdicts: Sequence[Verdict]) -> list[float]:
    """Delays in days: late, overdue so far, expired past the deadline; revoked on time = 0."""
    days = []
    for v in verdicts:
        if v.status is Status.REVOKED_ON_TIME:
            days.append(0.0)
        elif v.status in _DELAYED and v.delay is not None:
            days.append(v.delay / timedelta(seconds=1) / _DAY_S)
    return days


def delay_distribution_png(verdicts_by_owner: Mapping[str, Sequence[Verdict]]) -> bytes:
    """Delays (days) per CA owner: a box plot with every certificate as a point."""
    owners = sorted(verdicts_by_owner)
    series = [delay_days(verdicts_by_owner[o]) for o in owners]
    with matplotlib.style.context("default"):
        height = max(FIGURE_SIZE_IN[1], 1.0 + 0.5 * len(owners))
        figure = Figure(figsize=(FIGURE_SIZE_IN[0], height), dpi=DPI)
        axes = figure.add_subplot()
        shown = [(i, s) for i, s in enumerate(series, start=1) if s]
        if shown:
            axes.boxplot(
                [s for _, s in shown], positions=[i for i, _ in shown], orientation="horizontal", widths=0.6
            )
            for position, values in shown:
                # spread points over the box height in a fixed pattern (no random jitter)
                offsets = [((k % 7) - 3) * 0.05 for k in range(len(values))]
                axes.scatter(values, [position + o for o in offsets], s=10, alpha=0.6, color="tab:blue")
        else:
            axes.text(0.5, 0.5, "no delays to show", transform=axes.transAxes, ha="center")
        axes.set_yticks(range(1, len(owners) + 1), [plain_label(o) for o in owners])
        axes.set_ylim(0.4, len(owners) + 0.6)
        axes.set_xlabel("delay past the deadline (days; on time = 0, overdue = so far)")
        axes.set_title("Distribution of revocation delays per CA owner")
        figure.tight_layout()
        return _png(figure)


def plan_progress_png(progress: PlanProgress, ca_owner: str) -> bytes:
    """The replaced share of the baseline over time from the clock start to the as-of: planned (a
    step line, the plan in force at each month end and milestone) against measured, each milestone
    due by then marked by its state, the stop-issuance date a vertical line."""
    shown = [p for p in progress.points if p.at <= progress.as_of]
    held = [p for p in shown if p.state is not PointState.SUPERSEDED]
    planned = sorted({p.at: p.planned_percent for p in held if p.planned_percent is not None}.items())
    # nothing of the baseline is replaced at the clock start: the baseline is what was in the wild then
    measured = sorted(
        {
            progress.clock_start: 0.0,
            **{p.at: p.measured_percent for p in held if p.measured_percent is not None},
        }.items()
    )
    with matplotlib.style.context("default"):
        figure = Figure(figsize=FIGURE_SIZE_IN, dpi=DPI)
        axes = figure.add_subplot()
        if planned:
            axes.step(
                [_day_number(t) for t, _ in planned], [v for _, v in planned], where="post",
                color="tab:blue", label="planned (plan in force)",
            )  # fmt: skip
        if baseline(progress):
            axes.plot(
                [_day_number(t) for t, _ in measured], [v for _, v in measured], marker="o", markersize=4,
                color="black", label="measured",
            )  # fmt: skip
        else:
            axes.text(0.5, 0.5, "no leaf in the wild at the clock start: nothing to replace",
                      transform=axes.transAxes, ha="center")  # fmt: skip
        for state, (label, colour, marker, size) in _MILESTONE_STYLE.items():
            marked = [
                (_day_number(p.at), p.planned_percent)
                for p in shown
                if p.kind is PointKind.MILESTONE and p.state is state and p.planned_percent is not None
            ]
            if marked:
                axes.scatter(
                    [x for x, _ in marked], [y for _, y in marked],
                    marker=marker, s=size, color=colour, zorder=3, label=label,
                )  # fmt: skip
        for p in shown:
            if p.kind is PointKind.STOP_ISSUANCE:
                axes.axvline(_day_number(p.at), color="tab:purple", linestyle="--",
                             label=plain_label(milestone_label(p)))  # fmt: skip
        axes.set_xlim(_day_number(progress.clock_start), _day_number(progress.as_of))
        axes.set_ylim(0, 105)
        axes.set_ylabel("baseline leaves replaced (%)")
        axes.set_xlabel("time (UTC)")
        axes.set_title(plain_label(f"Plan vs evidence: {ca_owner}"))
        _date_axis(axes)
        figure.autofmt_xdate()
        axes.legend(loc="upper left", fontsize="small")
        figure.tight_layout()
        return _png(figure)
