"""Declared plans: a CA's own schedule for replacing the leaf certificates of the issuing CAs an
incident concerns (`[[plans]]` in ctwatch.toml, format in docs/plans.md).

A plan belongs to one incident of a declared incident id and CA owner. A CA may revise its plan:
each `[[plans]]` entry is one version, in force from its `announced_at` until the next version's;
an evaluation as of an earlier instant does not see a later version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final

from ctwatch.evaluate.declaration_table import INSTANT_EXAMPLE, DeclarationTable

DEFAULT_BEHIND_MARGIN_POINTS: Final = 5.0
PLAN_KEYS: Final = frozenset(
    {
        "incident", "ca_owner", "announced_at", "source", "milestones", "stop_issuance",
        "key_destruction", "issuer_keys", "crtsh_ca_ids", "behind_margin_points",
    }
)  # fmt: skip
_MILESTONE_KEYS: Final = frozenset({"due", "replaced_percent", "replaced_count", "source"})


@dataclass(frozen=True, slots=True)
class Milestone:
    due: datetime  # replaced by this instant; a date in the file means the end of that UTC day
    replaced_percent: float | None  # of the baseline population; exactly one of the two is set
    replaced_count: int | None
    source: str | None  # the bug comment stating it, when not the plan's own


@dataclass(frozen=True, slots=True)
class DeclaredPlan:
    incident_id: str  # "<declared incident id>:<CA owner>"
    announced_at: datetime  # in force from here until a later version of the same incident
    source: str  # where the CA stated it (a bug comment)
    milestones: tuple[Milestone, ...]  # by due instant
    stop_issuance: datetime | None  # no leaf from the affected issuing CAs after this instant
    key_destruction: datetime | None  # the affected keys destroyed by this instant
    issuer_keys: frozenset[str]  # SPKI SHA-256 of the affected issuing CAs; empty: every incident member's
    crtsh_ca_ids: Mapping[str, int] = field(default_factory=dict)  # issuer key -> crt.sh CA id
    behind_margin_points: float = DEFAULT_BEHIND_MARGIN_POINTS

    @property
    def version(self) -> str:
        """How reports name this version: its announcement instant and source."""
        return f"plan of {self.announced_at:%Y-%m-%d %H:%M} UTC ({self.source})"


def end_of_day_or_instant(table: DeclarationTable, key: str, value: object) -> datetime | None:
    """A deadline: an instant as written, a date as the end of that UTC day (what "by 2020-08-31" says)."""
    if isinstance(value, datetime):
        return table.day_or_instant(key, value)
    if isinstance(value, date):
        if value < date.max:
            return datetime(value.year, value.month, value.day, tzinfo=UTC) + timedelta(days=1)
        table.problem(key, value, "a date before 9999-12-31 (a date means the end of that day)")
        return None
    table.problem(
        key, value, f"a TOML date (2020-08-31, meaning by its end) or date-time ({INSTANT_EXAMPLE})"
    )
    return None


def _number(table: DeclarationTable, key: str, value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        table.problem(key, value, "a number")
        return None
    return float(value)


def _milestone(table: DeclarationTable, position: int, raw: object) -> Milestone | None:
    where = f"milestones[{position}]"
    if not isinstance(raw, dict):
        table.problem(where, raw, "{ due = 2020-08-31, replaced_percent = 5 }")
        return None
    for key in sorted(set(raw) - _MILESTONE_KEYS):
        table.problems.append(
            f"{table.where}.{where}: unknown key {key!r} (known: {', '.join(sorted(_MILESTONE_KEYS))})"
        )
    if "due" not in raw:
        table.problems.append(f"{table.where}.{where}.due is missing: expected a date like 2020-08-31")
        return None
    due = end_of_day_or_instant(table, f"{where}.due", raw["due"])
    percent = count = None
    if ("replaced_percent" in raw) == ("replaced_count" in raw):
        table.problems.append(
            f"{table.where}.{where}: give exactly one of replaced_percent and replaced_count"
        )
        return None
    if "replaced_percent" in raw:
        percent = _number(table, f"{where}.replaced_percent", raw["replaced_percent"])
        if percent is not None and not 0 <= percent <= 100:
            table.problem(f"{where}.replaced_percent", raw["replaced_percent"], "a percentage from 0 to 100")
            percent = None
        if percent is None:
            return None
    else:
        value = raw["replaced_count"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            table.problem(f"{where}.replaced_count", value, "a number of certificates, 0 or more")
            return None
        count = value
    source = raw.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        table.problem(f"{where}.source", source, "a link to the comment stating it")
        return None
    if due is None:
        return None
    return Milestone(due, percent, count, source)


def _issuer_keys(table: DeclarationTable) -> frozenset[str]:
    listed = table.table.get("issuer_keys", [])
    if not isinstance(listed, list):
        table.problem("issuer_keys", listed, "a list of SPKI SHA-256 fingerprints")
        return frozenset()
    return frozenset(filter(None, (table.sha256("issuer_keys", v) for v in listed)))


def _crtsh_ca_ids(table: DeclarationTable) -> dict[str, int]:
    raw = table.table.get("crtsh_ca_ids", {})
    if not isinstance(raw, dict):
        table.problem("crtsh_ca_ids", raw, 'a table of "<issuer SPKI SHA-256>" = <crt.sh CA id>')
        return {}
    ids: dict[str, int] = {}
    for key, value in raw.items():
        spki = table.sha256("crtsh_ca_ids", key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            table.problem(f"crtsh_ca_ids.{key}", value, "a crt.sh CA id (a positive number)")
        elif spki is not None:
            ids[spki] = value
    return ids


def parse_plan(table: DeclarationTable, declared_ids: frozenset[str]) -> DeclaredPlan | None:
    """One `[[plans]]` entry; None (with the problems recorded) when it has any."""
    table.unknown_keys(PLAN_KEYS)
    before = len(table.problems)
    incident = table.text("incident", '"ocsp-eku-2020"')
    if incident is not None and incident not in declared_ids:
        table.problem(
            "incident",
            incident,
            "the id of a declared [[incidents]] entry: " + ", ".join(sorted(declared_ids)),
        )
    ca_owner = table.text("ca_owner", '"SECOM Trust Systems"')
    announced_at = table.instant("announced_at")
    source = table.text("source", '"https://bugzilla.mozilla.org/show_bug.cgi?id=1652610#c7"')
    raw_milestones = table.table.get("milestones", [])
    if not isinstance(raw_milestones, list):
        table.problem("milestones", raw_milestones, "an array of { due = ..., replaced_percent = ... }")
        raw_milestones = []
    milestones = [m for n, raw in enumerate(raw_milestones) if (m := _milestone(table, n, raw)) is not None]
    dues = [m.due for m in milestones]
    if len(set(dues)) != len(dues):
        table.problem("milestones", raw_milestones, "one milestone per due date")
    stop = key_destruction = None
    if "stop_issuance" in table.table:
        stop = end_of_day_or_instant(table, "stop_issuance", table.table["stop_issuance"])
    if "key_destruction" in table.table:
        key_destruction = end_of_day_or_instant(table, "key_destruction", table.table["key_destruction"])
    if not raw_milestones and "stop_issuance" not in table.table and "key_destruction" not in table.table:
        table.problems.append(f"{table.where}: a plan needs milestones, stop_issuance or key_destruction")
    margin = _number(
        table, "behind_margin_points", table.table.get("behind_margin_points", DEFAULT_BEHIND_MARGIN_POINTS)
    )
    if margin is not None and margin < 0:
        table.problem("behind_margin_points", margin, "0 or more percentage points")
    issuer_keys = _issuer_keys(table)
    crtsh_ca_ids = _crtsh_ca_ids(table)
    if len(table.problems) > before or None in (incident, ca_owner, announced_at, source, margin):
        return None
    return DeclaredPlan(
        incident_id=f"{incident}:{ca_owner}",
        announced_at=announced_at,  # type: ignore[arg-type]
        source=source,  # type: ignore[arg-type]
        milestones=tuple(sorted(milestones, key=lambda m: m.due)),
        stop_issuance=stop,
        key_destruction=key_destruction,
        issuer_keys=issuer_keys,
        crtsh_ca_ids=crtsh_ca_ids,
        behind_margin_points=margin,  # type: ignore[arg-type]
    )


def plan_in_force(plans: tuple[DeclaredPlan, ...], incident_id: str, moment: datetime) -> DeclaredPlan | None:
    """The version of `incident_id`'s plan in force at `moment`: the latest announced by then."""
    versions = [p for p in plans if p.incident_id == incident_id and p.announced_at <= moment]
    return max(versions, key=lambda p: p.announced_at, default=None)
