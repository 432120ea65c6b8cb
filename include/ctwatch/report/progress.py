"""Counts of an incident's certificates: now, month by month (the table SECOM posted by hand), delays.

Counted: every certificate with a revocation clock (roots are listed, not waited for).
Revoked = revoked_on_time, revoked_late or revoked_before_start; expired = expired_unrevoked;
not yet revoked = pending or overdue. A month's row is the state at the end of the month (the
last row: at the report's as-of), from the verdicts as of the report: a revocation counts from its
claimed time (else ctwatch's first observation); one with neither counts from the last row only.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from ctwatch.evaluate import Incident, Status, Verdict

REVOKED: Final = frozenset({Status.REVOKED_ON_TIME, Status.REVOKED_LATE, Status.REVOKED_BEFORE_START})
NOT_YET_REVOKED: Final = frozenset({Status.PENDING, Status.OVERDUE})
PROGRESS_COLUMNS: Final = (
    "Month",
    "State at (UTC)",
    "Certificates",
    "Revoked so far (claimed time)",
    "Revoked so far (first observed by ctwatch)",
    "Remaining",
    "Expired unrevoked",
)


@dataclass(frozen=True, slots=True)
class Counts:
    certificates: int  # with a revocation clock (roots excluded)
    roots_listed: int
    revoked: int
    not_yet_revoked: int
    expired_unrevoked: int
    by_status: tuple[tuple[str, int], ...]  # every status present, in Status order


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: str  # YYYY-MM
    state_at: datetime  # end of the month, or the as-of for the current month
    certificates: int
    revoked_claimed: int
    revoked_observed: int  # by ctwatch's own first observation
    remaining: int
    expired: int


@dataclass(frozen=True, slots=True)
class Delays:
    late: int  # revoked late
    overdue: int  # not revoked, deadline passed
    max_late: timedelta | None
    median_late: timedelta | None
    max_overdue: timedelta | None
    median_overdue: timedelta | None


def clocked(verdicts: Sequence[Verdict]) -> list[Verdict]:
    """The certificates waited for: every verdict with a revocation clock in this incident (roots,
    another owner's certificates and those without a BR window are listed, not waited for)."""
    return [v for v in verdicts if v.status.waited]


def revoked_at(verdict: Verdict) -> datetime | None:
    """When a revoked certificate counts as revoked: the claimed time, else ctwatch's first sighting."""
    if verdict.status not in REVOKED:
        return None
    return verdict.revoked_at_claimed or verdict.first_observed_revoked_at


def counts(verdicts: Sequence[Verdict]) -> Counts:
    waited = clocked(verdicts)
    present = {v.status for v in verdicts}
    return Counts(
        certificates=len(waited),
        roots_listed=len(verdicts) - len(waited),
        revoked=sum(v.status in REVOKED for v in waited),
        not_yet_revoked=sum(v.status in NOT_YET_REVOKED for v in waited),
        expired_unrevoked=sum(v.status is Status.EXPIRED_UNREVOKED for v in waited),
        by_status=tuple((s.value, sum(v.status is s for v in verdicts)) for s in Status if s in present),
    )


def _median(values: Sequence[timedelta]) -> timedelta | None:
    return statistics.median_low(values) if values else None


def delays(verdicts: Sequence[Verdict]) -> Delays:
    """Delays of late revocations and of overdue certificates (so far), max and median (low)."""
    late = sorted(v.delay for v in verdicts if v.status is Status.REVOKED_LATE and v.delay is not None)
    overdue = sorted(v.delay for v in verdicts if v.status is Status.OVERDUE and v.delay is not None)
    return Delays(
        late=len(late),
        overdue=len(overdue),
        max_late=late[-1] if late else None,
        median_late=_median(late),
        max_overdue=overdue[-1] if overdue else None,
        median_overdue=_median(overdue),
    )


def _month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _next_month(moment: datetime) -> datetime:
    return datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)


def monthly_progress(incident: Incident, verdicts: Sequence[Verdict], as_of: datetime) -> list[MonthRow]:
    """One row per month from the clock start (else first detection, else as-of) to the as-of."""
    waited = clocked(verdicts)
    # (counted revoked from, first observed by ctwatch, notAfter) per certificate; far future = never
    never = datetime.max.replace(tzinfo=UTC)
    unknown = as_of  # revoked, but nobody claimed or observed when: counts from the last row
    times = [
        (
            (revoked_at(v) or unknown) if v.status in REVOKED else never,
            (v.first_observed_revoked_at or never) if v.status in REVOKED else never,
            v.not_after or never,
        )
        for v in waited
    ]
    start = incident.clock_start or incident.first_detected_as_of or as_of
    rows = []
    month = _month_start(min(start, as_of))
    while True:
        state_at = min(_next_month(month), as_of)
        revoked = sum(revoked_from <= state_at for revoked_from, _, _ in times)
        expired = sum(
            revoked_from > state_at and not_after <= state_at for revoked_from, _, not_after in times
        )
        rows.append(
            MonthRow(
                month=f"{month:%Y-%m}",
                state_at=state_at,
                certificates=len(waited),
                revoked_claimed=revoked,
                revoked_observed=sum(observed <= state_at for _, observed, _ in times),
                remaining=len(waited) - revoked - expired,
                expired=expired,
            )
        )
        if state_at == as_of:
            return rows
        month = _next_month(month)


def progress_csv(rows: Sequence[MonthRow]) -> bytes:
    """The monthly table as CSV (CRLF, UTF-8), numbers and times only."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(PROGRESS_COLUMNS)
    for r in rows:
        writer.writerow(
            [r.month, f"{r.state_at:%Y-%m-%dT%H:%M:%SZ}", r.certificates, r.revoked_claimed,
             r.revoked_observed, r.remaining, r.expired]
        )  # fmt: skip
    return buffer.getvalue().encode("utf-8")
