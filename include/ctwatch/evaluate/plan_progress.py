"""A CA's declared plan (`plans.py`) against the evidence: the leaf population of the affected
issuing CAs, measured at every month end, at each milestone, at the stop-issuance and the
key-destruction dates. The rules, for users, are in docs/plans.md; in short:

* **Population**: the leaves and precertificates the affected keys issued, one per (issuer key,
  serial) so a precertificate and its final certificate count once, from ctwatch's CT entries
  (public by the as-of) and crt.sh's issuer searches (history before ctwatch watched the logs).
* **Revoked** from the thisUpdate of the earliest verified CRL version of the issuing key that lists
  the serial; **unexpired** at t while t <= notAfter (RFC 5280 4.1.2.5: notAfter is inclusive).
* **Baseline**: the leaves issued by the clock start (notBefore <= clock start), unexpired and
  unrevoked at it. **Remaining** at t: baseline leaves still unexpired and unrevoked at t.
  **Replaced** = 1 - remaining / baseline.
* **Planned** at t: the version in force at t (the latest announced by t), its latest milestone due
  by t (0 before the first); a count milestone is its share of the baseline.
* **Behind**: a milestone due by the as-of whose planned share exceeds the measured one by more
  than the plan's margin. A milestone of a version replaced before it fell due is superseded.
* **Issued after the stop**: a leaf of an affected key with notBefore after the stop instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import duckdb

from ctwatch.evaluate.model import Assessment, Incident
from ctwatch.evaluate.plans import DeclaredPlan, Milestone, plan_in_force
from ctwatch.evidence.revocation import serial_hex_from_signed
from ctwatch.timeutil import iso_z
from ctwatch.warehouse import query_dicts


class PointKind(StrEnum):
    MONTH_END = "month_end"
    AS_OF = "as_of"  # the evaluation's own instant, when it is no month end
    MILESTONE = "milestone"
    STOP_ISSUANCE = "stop_issuance"
    KEY_DESTRUCTION = "key_destruction"


class PointState(StrEnum):
    MEASURED = "measured"  # a month end or the as-of: no promise due
    ON_PLAN = "on_plan"  # measured at least what was planned
    WITHIN_MARGIN = "within_margin"  # behind, by no more than the margin
    BEHIND = "behind"
    NOT_DUE = "not_due"
    SUPERSEDED = "superseded"  # a later version was in force when it fell due
    NO_BASELINE = "no_baseline"  # no leaf was in the wild at the clock start: nothing to replace
    KEPT = "kept"  # stop issuance: no leaf after it so far; key destruction: attested by the date
    BROKEN = "broken"  # stop issuance: leaves issued after it; key destruction: not attested by the date


@dataclass(frozen=True, slots=True)
class CtEntry:
    log_id: str
    entry_index: int
    timestamp: datetime


@dataclass(slots=True)
class Leaf:
    """One leaf certificate of an affected key, merged over its CT entries and crt.sh rows."""

    issuer_key: str
    serial_hex: str
    not_before: datetime
    not_after: datetime
    first_ct: CtEntry | None = None
    ct_entries: int = 0
    crtsh_id: int | None = None
    revoked_from: datetime | None = None  # thisUpdate of the earliest CRL version listing it
    revoked_on: str | None = None  # that CRL's URL

    def in_wild(self, moment: datetime) -> bool:
        """Valid and not revoked at `moment` (notAfter inclusive, RFC 5280 4.1.2.5)."""
        revoked = self.revoked_from is not None and self.revoked_from <= moment
        return self.not_before <= moment <= self.not_after and not revoked


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    kind: PointKind
    at: datetime
    label: str
    plan_announced_at: datetime | None
    plan_source: str | None
    planned_percent: float | None
    planned_count: int | None
    measured_percent: float | None
    baseline: int
    remaining: int | None
    revoked: int | None
    expired: int | None
    state: PointState
    explanation: tuple[str, ...]

    @property
    def difference_points(self) -> float | None:
        """Measured minus planned, in percentage points (negative: behind)."""
        if self.planned_percent is None or self.measured_percent is None:
            return None
        return self.measured_percent - self.planned_percent


@dataclass(frozen=True, slots=True)
class LateLeaf:
    stop_issuance: datetime
    issuer_key: str
    serial_hex: str
    not_before: datetime
    not_after: datetime
    first_ct: CtEntry | None
    crtsh_id: int | None

    @property
    def where(self) -> str:
        if self.first_ct is not None:
            ct = self.first_ct
            return f"CT log {ct.log_id[:16]} entry #{ct.entry_index} at {iso_z(ct.timestamp)}"
        return f"crt.sh id {self.crtsh_id}"


@dataclass(frozen=True, slots=True)
class PlanProgress:
    incident_id: str
    as_of: datetime
    clock_start: datetime
    issuer_keys: tuple[str, ...]
    points: tuple[ProgressPoint, ...]
    late_leaves: tuple[LateLeaf, ...]
    behind_margin_points: float
    population: tuple[str, ...] = field(default=())  # where the population comes from, in words


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the warehouse holds about the affected keys as of the evaluation."""

    ct_rows: Sequence[Mapping[str, Any]]
    crtsh_rows: Sequence[Mapping[str, Any]]
    crtsh_searches: Sequence[Mapping[str, Any]]
    crl_listings: Sequence[Mapping[str, Any]]
    crl_versions: Sequence[Mapping[str, Any]]
    ct_coverage: Sequence[Mapping[str, Any]]
    destroyed: Mapping[str, Mapping[str, Any]]  # spki -> earliest attested destruction


def read_evidence(con: duckdb.DuckDBPyConnection, issuer_keys: Sequence[str], as_of: datetime) -> Evidence:
    params = {"issuer_keys": list(issuer_keys), "as_of": as_of}
    return Evidence(
        ct_rows=query_dicts(con, "plans/ct_leaves", params),
        crtsh_rows=query_dicts(con, "plans/crtsh_leaves", params),
        crtsh_searches=query_dicts(con, "plans/crtsh_searches", params),
        crl_listings=query_dicts(con, "plans/crl_listings", params),
        crl_versions=query_dicts(con, "plans/crl_versions", params),
        ct_coverage=query_dicts(con, "plans/ct_coverage", {"as_of": as_of}),
        destroyed={
            r["spki_sha256"]: r
            for r in query_dicts(con, "evaluate/key_destructions", {"as_of": as_of})
            if r["spki_sha256"] in issuer_keys
        },
    )


def population(evidence: Evidence) -> list[Leaf]:
    """One leaf per (issuer key, serial) from CT and crt.sh, with its first CRL listing."""
    leaves: dict[tuple[str, str], Leaf] = {}
    for row in evidence.ct_rows:
        if row["serial"] is None or row["not_before"] is None or row["not_after"] is None:
            continue  # counted by `unreadable_ct_entries`
        key = (row["issuer_spki_sha256"], serial_hex_from_signed(bytes(row["serial"])))
        leaf = leaves.get(key)
        if leaf is None:
            leaf = leaves[key] = Leaf(key[0], key[1], _utc(row["not_before"]), _utc(row["not_after"]))
        leaf.ct_entries += 1
        if leaf.first_ct is None:  # rows come earliest first
            leaf.first_ct = CtEntry(row["log_id"], row["entry_index"], _utc(row["entry_timestamp"]))
    for row in evidence.crtsh_rows:
        key = (row["issuer_spki_sha256"], row["serial_hex"])
        leaf = leaves.get(key)
        if leaf is None:
            leaf = leaves[key] = Leaf(key[0], key[1], _utc(row["not_before"]), _utc(row["not_after"]))
        leaf.crtsh_id = row["crtsh_id"]
    for row in evidence.crl_listings:
        leaf = leaves.get((row["issuer_spki_sha256"], row["serial_hex"]))
        if leaf is not None:
            leaf.revoked_from = _utc(row["listed_from"])
            leaf.revoked_on = row["url"]
    return sorted(leaves.values(), key=lambda leaf: (leaf.issuer_key, leaf.serial_hex))


def unreadable_ct_entries(evidence: Evidence) -> int:
    return sum(1 for r in evidence.ct_rows if r["serial"] is None or r["not_after"] is None)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def month_ends(start: datetime, until: datetime) -> list[datetime]:
    """The ends of the months from `start`'s month on (each the first instant of the next month)
    up to `until` inclusive."""
    ends: list[datetime] = []
    year, month = start.year, start.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        end = datetime(year, month, 1, tzinfo=UTC)
        if end > until:
            return ends
        if end > start:
            ends.append(end)


def _label(moment: datetime) -> str:
    """A day label for instants at a UTC midnight (the end of the day before), else the instant."""
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return f"{datetime.fromordinal(moment.toordinal() - 1):%Y-%m-%d}"
    return iso_z(moment)


def _planned_percent(milestone: Milestone, baseline: int) -> float | None:
    if milestone.replaced_percent is not None:
        return milestone.replaced_percent
    if baseline == 0 or milestone.replaced_count is None:
        return None
    return 100.0 * milestone.replaced_count / baseline


@dataclass(frozen=True, slots=True)
class _Measure:
    remaining: int
    revoked: int
    expired: int

    def percent(self, baseline: int) -> float | None:
        return None if baseline == 0 else 100.0 * (baseline - self.remaining) / baseline


def _measure(baseline: Sequence[Leaf], moment: datetime) -> _Measure:
    remaining = revoked = expired = 0
    for leaf in baseline:
        if (
            leaf.revoked_from is not None
            and leaf.revoked_from <= moment
            and leaf.revoked_from <= leaf.not_after
        ):
            revoked += 1
        elif moment > leaf.not_after:
            expired += 1
        else:
            remaining += 1
    return _Measure(remaining, revoked, expired)


class _Planner:
    """The points of one incident's plan as of an evaluation."""

    def __init__(
        self,
        versions: Sequence[DeclaredPlan],
        baseline: Sequence[Leaf],
        clock_start: datetime,
        as_of: datetime,
    ) -> None:
        self.versions = tuple(versions)
        self.baseline = tuple(baseline)
        self.clock_start = clock_start
        self.as_of = as_of
        self.incident_id = versions[0].incident_id

    def in_force(self, moment: datetime) -> DeclaredPlan | None:
        return plan_in_force(self.versions, self.incident_id, moment)

    def planned_at(self, moment: datetime) -> tuple[DeclaredPlan | None, Milestone | None]:
        version = self.in_force(moment)
        if version is None:
            return None, None
        due = [m for m in version.milestones if m.due <= moment]
        return version, (due[-1] if due else None)

    def measured_point(self, kind: PointKind, moment: datetime) -> ProgressPoint:
        version, milestone = self.planned_at(moment)
        measure = _measure(self.baseline, moment)
        planned = None
        if version is not None and version.milestones:
            planned = _planned_percent(milestone, len(self.baseline)) if milestone is not None else 0.0
        return self._point(
            kind,
            moment,
            version,
            planned=planned,
            planned_count=None,
            measure=measure,
            state=PointState.MEASURED,
        )

    def milestone_point(self, version: DeclaredPlan, milestone: Milestone) -> ProgressPoint:
        baseline = len(self.baseline)
        planned = _planned_percent(milestone, baseline)
        in_force = self.in_force(milestone.due)
        if in_force is not None and in_force is not version:
            return self._point(
                PointKind.MILESTONE, milestone.due, version, planned=planned,
                planned_count=milestone.replaced_count, measure=None, state=PointState.SUPERSEDED,
                note=f"superseded by the {in_force.version} before it fell due",
            )  # fmt: skip
        if milestone.due > self.as_of:
            return self._point(
                PointKind.MILESTONE, milestone.due, version, planned=planned,
                planned_count=milestone.replaced_count, measure=None, state=PointState.NOT_DUE,
            )  # fmt: skip
        measure = _measure(self.baseline, milestone.due)
        measured = measure.percent(baseline)
        if measured is None or planned is None:
            state = PointState.NO_BASELINE
        elif measured >= planned:
            state = PointState.ON_PLAN
        elif planned - measured > version.behind_margin_points:
            state = PointState.BEHIND
        else:
            state = PointState.WITHIN_MARGIN
        return self._point(
            PointKind.MILESTONE, milestone.due, version, planned=planned,
            planned_count=milestone.replaced_count, measure=measure, state=state,
        )  # fmt: skip

    def _point(
        self,
        kind: PointKind,
        moment: datetime,
        version: DeclaredPlan | None,
        *,
        planned: float | None,
        planned_count: int | None,
        measure: _Measure | None,
        state: PointState,
        note: str | None = None,
    ) -> ProgressPoint:
        baseline = len(self.baseline)
        explanation = []
        if measure is not None:
            explanation.append(
                f"remaining {measure.remaining} of the baseline {baseline} at {iso_z(moment)}: "
                f"{measure.revoked} revoked on a CRL by then, {measure.expired} expired by then"
            )
        if version is not None and planned is not None:
            basis = "no milestone due yet" if planned == 0.0 and planned_count is None else "its milestone"
            explanation.append(f"planned {planned:.1f}% from the {version.version}, {basis}")
        if note:
            explanation.append(note)
        return ProgressPoint(
            kind=kind,
            at=moment,
            label=iso_z(moment) if kind is PointKind.AS_OF else _label(moment),
            plan_announced_at=version.announced_at if version else None,
            plan_source=version.source if version else None,
            planned_percent=planned,
            planned_count=planned_count,
            measured_percent=measure.percent(baseline) if measure is not None else None,
            baseline=baseline,
            remaining=measure.remaining if measure else None,
            revoked=measure.revoked if measure else None,
            expired=measure.expired if measure else None,
            state=state,
            explanation=tuple(explanation),
        )


def measure_plan(
    versions: Sequence[DeclaredPlan],
    leaves: Sequence[Leaf],
    *,
    clock_start: datetime,
    as_of: datetime,
    destroyed: Mapping[str, Mapping[str, Any]],
    issuer_keys: Sequence[str],
    population_notes: Sequence[str] = (),
) -> PlanProgress:
    """The points and late leaves of one incident's plan (`versions` announced by `as_of`)."""
    baseline = [leaf for leaf in leaves if leaf.in_wild(clock_start)]
    planner = _Planner(versions, baseline, clock_start, as_of)
    points: list[ProgressPoint] = []
    ends = month_ends(clock_start, as_of)
    for end in ends:
        points.append(planner.measured_point(PointKind.MONTH_END, end))
    if not ends or ends[-1] != as_of:
        points.append(planner.measured_point(PointKind.AS_OF, as_of))
    for version in sorted(versions, key=lambda v: v.announced_at):
        points.extend(planner.milestone_point(version, m) for m in version.milestones)
    current = planner.in_force(as_of)
    late: list[LateLeaf] = []
    if current is not None and current.stop_issuance is not None:
        stop = current.stop_issuance
        late = [
            LateLeaf(
                stop,
                leaf.issuer_key,
                leaf.serial_hex,
                leaf.not_before,
                leaf.not_after,
                leaf.first_ct,
                leaf.crtsh_id,
            )
            for leaf in sorted(leaves, key=lambda leaf: (leaf.not_before, leaf.serial_hex))
            if leaf.not_before > stop
        ]
        points.append(_stop_point(current, stop, late, len(baseline)))
    if current is not None and current.key_destruction is not None:
        points.append(
            _destruction_point(
                current,
                current.key_destruction,
                issuer_keys=issuer_keys,
                destroyed=destroyed,
                as_of=as_of,
                baseline=len(baseline),
            )
        )
    points.sort(key=lambda p: (p.at, list(PointKind).index(p.kind)))
    return PlanProgress(
        incident_id=versions[0].incident_id,
        as_of=as_of,
        clock_start=clock_start,
        issuer_keys=tuple(issuer_keys),
        points=tuple(points),
        late_leaves=tuple(late),
        behind_margin_points=current.behind_margin_points if current else versions[-1].behind_margin_points,
        population=tuple(population_notes),
    )


def _stop_point(
    version: DeclaredPlan, stop: datetime, late: Sequence[LateLeaf], baseline: int
) -> ProgressPoint:
    if late:
        first = late[0]
        explanation = (
            f"{len(late)} leaves with notBefore after {iso_z(stop)}; the first: serial {first.serial_hex}, "
            f"notBefore {iso_z(first.not_before)}, {first.where}",
        )
    else:
        explanation = (f"no leaf of the affected keys has a notBefore after {iso_z(stop)}",)
    return ProgressPoint(
        kind=PointKind.STOP_ISSUANCE, at=stop, label=_label(stop), plan_announced_at=version.announced_at,
        plan_source=version.source, planned_percent=None, planned_count=0, measured_percent=None,
        baseline=baseline, remaining=None, revoked=None, expired=None,
        state=PointState.BROKEN if late else PointState.KEPT, explanation=explanation,
    )  # fmt: skip


def _destruction_point(
    version: DeclaredPlan,
    due: datetime,
    *,
    issuer_keys: Sequence[str],
    destroyed: Mapping[str, Mapping[str, Any]],
    as_of: datetime,
    baseline: int,
) -> ProgressPoint:
    by_due = [k for k in issuer_keys if k in destroyed and _utc(destroyed[k]["destroyed_at"]) <= due]
    lines = [_destruction_line(key, destroyed.get(key)) for key in issuer_keys]
    if len(by_due) == len(issuer_keys):
        state = PointState.KEPT
    else:
        state = PointState.NOT_DUE if due > as_of else PointState.BROKEN
    return ProgressPoint(
        kind=PointKind.KEY_DESTRUCTION, at=due, label=_label(due), plan_announced_at=version.announced_at,
        plan_source=version.source, planned_percent=None, planned_count=len(issuer_keys),
        measured_percent=None, baseline=baseline, remaining=None, revoked=None, expired=None, state=state,
        explanation=(f"{len(by_due)} of {len(issuer_keys)} keys destroyed by {iso_z(due)}", *lines),
    )  # fmt: skip


def _destruction_line(key: str, attestation: Mapping[str, Any] | None) -> str:
    if attestation is None:
        return f"key {key[:16]}: no destruction attested"
    return (
        f"key {key[:16]}: destroyed {iso_z(_utc(attestation['destroyed_at']))} (attested by "
        f"{attestation['auditor']}, recorded {iso_z(_utc(attestation['recorded_at']))})"
    )


def population_notes(
    evidence: Evidence, leaves: Sequence[Leaf], baseline: int, clock_start: datetime
) -> list[str]:
    """Where the population comes from: the CT logs and windows, the crt.sh searches, the CRLs."""
    in_ct = sum(1 for leaf in leaves if leaf.first_ct is not None)
    in_crtsh = sum(1 for leaf in leaves if leaf.crtsh_id is not None)
    both = sum(1 for leaf in leaves if leaf.first_ct is not None and leaf.crtsh_id is not None)
    notes = [
        f"{len(leaves)} leaves of the affected keys (one per issuer key and serial): {in_ct} in CT entries "
        f"ctwatch holds, {in_crtsh} in crt.sh issuer searches, {both} in both; baseline {baseline} "
        f"unexpired and unrevoked at the clock start {iso_z(clock_start)}"
    ]
    for log in evidence.ct_coverage:
        window = (
            f", its entries up to the as-of dated {log['first_day']} to {log['last_day']}"
            if log["first_day"] is not None
            else ", none dated by the as-of"
        )
        notes.append(
            f"CT {log['description']}: {log['entries']} entries in {log['ranges']} verified ranges "
            f"within [{log['first_index']}, {log['end_exclusive']}){window}"
        )
    unreadable = unreadable_ct_entries(evidence)
    if unreadable:
        notes.append(
            f"{unreadable} CT entries of the affected keys without a readable serial or validity: not counted"
        )
    searched: set[str] = set()
    for search in evidence.crtsh_searches:
        if search["issuer_spki_sha256"] in searched:
            continue
        searched.add(search["issuer_spki_sha256"])
        state = f"failed: {search['error']}" if search["error"] else f"{search['rows_returned']} rows"
        truncated = f", still capped: {', '.join(search['truncated'])}" if search["truncated"] else ""
        notes.append(
            f"crt.sh CA id {search['crtsh_ca_id']} (key {search['issuer_spki_sha256'][:16]}): "
            f"{search['url']}, "
            f"notBefore from {search['min_not_before']}, {search['queries']} queries, {state}{truncated}, "
            f"as of {iso_z(_utc(search['observed_at']))}"
        )
    for crl in evidence.crl_versions:
        notes.append(
            f"CRL {crl['url']}: {crl['versions']} verified versions, thisUpdate "
            f"{iso_z(_utc(crl['first_this_update']))} to {iso_z(_utc(crl['last_this_update']))}"
        )
    if not evidence.crl_versions:
        notes.append("no verified CRL of the affected keys: no leaf counts as revoked, only as expired")
    return notes


def affected_keys(plan: DeclaredPlan, assessment: Assessment) -> list[str]:
    """The plan's issuer keys, or every key of the incident's members."""
    if plan.issuer_keys:
        return sorted(plan.issuer_keys)
    return sorted(
        {v.spki_sha256 for v in assessment.verdicts if v.incident_id == plan.incident_id and v.spki_sha256}
    )


def measure_plans(
    con: duckdb.DuckDBPyConnection, assessment: Assessment, plans: Iterable[DeclaredPlan]
) -> list[PlanProgress]:
    """The progress of every plan whose incident the assessment has, with a clock started."""
    incidents: dict[str, Incident] = {i.incident_id: i for i in assessment.incidents}
    by_incident: dict[str, list[DeclaredPlan]] = {}
    for plan in plans:
        if plan.announced_at <= assessment.as_of:
            by_incident.setdefault(plan.incident_id, []).append(plan)
    out = []
    for incident_id, versions in sorted(by_incident.items()):
        incident = incidents.get(incident_id)
        if incident is None or incident.clock_start is None:
            continue
        versions.sort(key=lambda v: v.announced_at)
        keys = affected_keys(versions[-1], assessment)
        evidence = read_evidence(con, keys, assessment.as_of)
        leaves = population(evidence)
        baseline = sum(1 for leaf in leaves if leaf.in_wild(incident.clock_start))
        out.append(
            measure_plan(
                versions,
                leaves,
                clock_start=incident.clock_start,
                as_of=assessment.as_of,
                destroyed=evidence.destroyed,
                issuer_keys=keys,
                population_notes=population_notes(evidence, leaves, baseline, incident.clock_start),
            )
        )
    return out
