"""incident.md: an incident's state as Markdown ready to paste into a Bugzilla comment.

Certificate text (subjects, issuers) and identifiers are attacker-controlled or arbitrary: they
appear only as code spans (`markdown_literal`), prose from CCADB and configuration through
`escape_markdown`; in a GFM table cell a `|` ends the cell even inside a code span, so table cells
escape it too. Times are UTC to the minute (IRG timeline granularity).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from ctwatch.alerts.format import escape_markdown, format_delay, markdown_literal
from ctwatch.evaluate import Basis, Incident, KeyGroupStatus, PlanProgress, PointKind, PointState, Verdict
from ctwatch.evaluate.plan_progress import LateLeaf, ProgressPoint
from ctwatch.report.bugs import RECOMMENDED_UPDATE_INTERVAL, UPDATE_INTERVAL, LinkedBug, Unchecked
from ctwatch.report.plan_progress import (
    MAX_LATE_LEAVES_LISTED,
    baseline,
    crtsh_id_url,
    in_force_at_as_of,
    measurements,
    milestone_label,
    plan_versions,
    promises,
    shown,
)
from ctwatch.report.progress import NOT_YET_REVOKED, Counts, Delays, MonthRow, clocked, revoked_at

# Above this many revocations the timeline gives one line per day instead of one per certificate.
MAX_TIMELINE_REVOCATIONS: Final = 100
# An http(s) URL in prose; a trailing `:` or `.` ends the sentence, not the URL.
URL_IN_PROSE: Final = re.compile(r"https?://[^\s<>\"'|,;)]*[^\s<>\"'|,;):.]")


@dataclass(frozen=True, slots=True)
class ReportInputs:
    incident: Incident
    verdicts: tuple[Verdict, ...]
    key_groups: tuple[KeyGroupStatus, ...]
    bugs: tuple[LinkedBug, ...]
    months: tuple[MonthRow, ...]
    counts: Counts
    delays: Delays
    as_of: datetime  # asked for
    evaluated_as_of: datetime  # the evaluation shown (latest at or before as_of)
    certificate_list_file: str  # appendix.csv or crtsh_links.txt
    plan: PlanProgress | None = None  # the declared plan against the evidence, when the incident has one


def when(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def cell(text: str) -> str:
    """Prose in a GFM table cell."""
    return escape_markdown(text)  # escapes every ASCII punctuation character, `|` included


def literal_cell(text: str) -> str:
    """Certificate text in a GFM table cell: a code span with `|` escaped (GFM tables)."""
    return markdown_literal(text).replace("|", "\\|")


def prose(text: str) -> str:
    """Prose with URLs in it (the evaluator's explanations): escaped, each URL a code span."""
    parts: list[str] = []
    last = 0
    for match in URL_IN_PROSE.finditer(text):
        parts += [escape_markdown(text[last : match.start()]), markdown_literal(match.group(0))]
        last = match.end()
    parts.append(escape_markdown(text[last:]))
    return "".join(parts)


def _delay(delay: timedelta | None) -> str:
    return "—" if delay is None else format_delay(delay)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _summary(inputs: ReportInputs) -> list[str]:
    i = inputs.incident
    subordinate = ", ".join(escape_markdown(o) for o in i.subordinate_ca_owners) or "none"
    stores = ", ".join(escape_markdown(s) for s in i.root_stores) or "none listed"
    window = "—" if i.window is None else format_delay(i.window)
    return [
        "## Summary",
        "",
        f"- CA owner: {escape_markdown(i.ca_owner)}",
        f"- Subordinate CA owners: {subordinate}",
        f"- Root stores: {stores}",
        f"- Rule: {markdown_literal(i.rule_id)} ({escape_markdown(i.rule_citation)})",
        f"- Revocation window: {escape_markdown(i.window_kind or '—')}, {escape_markdown(window)}"
        + (f" ({escape_markdown(i.window_citation)})" if i.window_citation else ""),
        f"- Scope: {escape_markdown(i.scope_basis)}",
        f"- Status: {markdown_literal(i.status)}",
        f"- Certificates: {i.certificates} in {i.key_groups} key group(s)",
    ]


def _timeline(inputs: ReportInputs) -> list[str]:
    i = inputs.incident
    events: list[tuple[datetime, str]] = []
    if i.clock_start is not None:
        source = escape_markdown(f"{i.clock_source or 'unknown'}: {i.clock_source_detail or ''}".rstrip(": "))
        events.append((i.clock_start, f"Clock start (source: {source})"))
    if i.first_detected_as_of is not None:
        events.append((i.first_detected_as_of, "First detection by ctwatch (starts no clock)"))
    if i.deadline is not None:
        events.append((i.deadline, "Revocation deadline"))
    revocations = sorted(
        ((t, v) for v in clocked(inputs.verdicts) if (t := revoked_at(v)) is not None), key=lambda p: p[0]
    )
    if len(revocations) <= MAX_TIMELINE_REVOCATIONS:
        for moment, v in revocations:
            late = ""
            if v.delay is not None:
                upper = v.delay_max if v.delay_max is not None and v.delay_max != v.delay else None
                late = f", late by {format_delay(v.delay)}" + (f" to {format_delay(upper)}" if upper else "")
            seen = v.first_observed_revoked_at
            observed = f"; first observed by ctwatch {when(seen)}" if seen is not None else ""
            events.append(
                (
                    moment,
                    f"Revoked: {literal_cell(v.subject or v.der_sha256)} ({v.status.value}{late}{observed})",
                )
            )
    else:
        per_day: dict[str, int] = {}
        for moment, _ in revocations:
            per_day[f"{moment:%Y-%m-%d}"] = per_day.get(f"{moment:%Y-%m-%d}", 0) + 1
        for day, number in per_day.items():
            events.append(
                (datetime.fromisoformat(day).replace(tzinfo=UTC), f"{number} certificate(s) revoked")
            )
    for group in inputs.key_groups:
        if group.key_destroyed_at is not None:
            events.append((group.key_destroyed_at, f"Key destroyed: {literal_cell(group.spki_sha256)}"))
    events.sort(key=lambda e: e[0])
    return [
        "## Timeline (UTC)",
        "",
        *_table(["Time (UTC)", "Event"], [[when(t), text] for t, text in events]),
    ]


def _estimate(verdicts: Sequence[Verdict]) -> str:
    remaining = [v for v in clocked(verdicts) if v.status in NOT_YET_REVOKED]
    if not remaining:
        return "complete: no certificate remains to be revoked"
    planned = [v.planned_revocation_at for v in remaining if v.planned_revocation_at is not None]
    if len(planned) < len(remaining):
        missing = len(remaining) - len(planned)
        return f"not given: no planned date for {missing} of {len(remaining)} certificate(s)"
    return f"{when(max(planned))} (latest planned date the CA gave)"


def _counts(inputs: ReportInputs) -> list[str]:
    c, d = inputs.counts, inputs.delays
    lines = [
        "## Revocation-delay update (CCADB IRG v3.2)",
        "",
        f"- Number revoked: {c.revoked}",
        f"- Number not yet revoked: {c.not_yet_revoked}",
        f"- Number planned for revocation that have expired: {c.expired_unrevoked}",
        f"- Estimate for when all remaining revocations will be completed: {_estimate(inputs.verdicts)}",
    ]
    if c.roots_listed:
        lines.append(f"- Roots listed for root-program action (no revocation clock): {c.roots_listed}")
    lines += [
        "",
        "Certificates by status: " + ", ".join(f"{markdown_literal(s)} {n}" for s, n in c.by_status),
        "",
        "## Delays",
        "",
        f"- Revoked late: {d.late}; maximum {_delay(d.max_late)}, median {_delay(d.median_late)}",
        f"- Overdue (so far): {d.overdue}; maximum {_delay(d.max_overdue)}, "
        f"median {_delay(d.median_overdue)}",
    ]
    return lines


def _key_groups(inputs: ReportInputs) -> list[str]:
    if not inputs.key_groups:
        return ["## Key groups and key destruction", "", "No key groups."]
    rows = [
        [
            literal_cell(g.spki_sha256),
            str(g.members),
            str(g.revoked),
            str(g.expired),
            str(g.open),
            str(g.late),
            _delay(g.max_delay),
            (
                when(g.key_destroyed_at)
                + f", {cell(g.key_destruction_auditor or '')}, "
                + literal_cell(g.key_destruction_link or "")
            )
            if g.key_destroyed_at is not None
            else ("not recorded" if g.key_destruction_required else "not required"),
            markdown_literal(g.status),
            when(g.closed_at),
            _closure(g.closure_delay),
        ]
        for g in inputs.key_groups
    ]
    header = ["Key (SPKI SHA-256)", "Members", "Revoked", "Expired", "Open", "Late", "Max delay",
              "Key destruction", "Status", "Closed", "Closure vs earliest deadline"]  # fmt: skip
    return [
        "## Key groups and key destruction",
        "",
        *_table(header, rows),
        "",
        "A group closes when every member with a revocation clock is revoked or expired and, where "
        "required, the key's destruction is attested (counted from when the attestation was recorded); "
        "its closure is the latest of those, measured against the earliest deadline of its members.",
    ]


def _closure(delay: timedelta | None) -> str:
    if delay is None:
        return "—"
    return f"{format_delay(delay)} after" if delay > timedelta(0) else f"{format_delay(-delay)} before"


def _beside(inputs: ReportInputs) -> list[str]:
    lines = ["## Root-program actions and findings", ""]
    items = [
        f"- {literal_cell(v.subject or v.der_sha256)}: {escape_markdown(text)}"
        for v in inputs.verdicts
        for text in (*v.root_program_actions, *v.findings)
    ]
    if not items:
        return [*lines, "None: no OneCRL or CRLSet block, no certificate on hold."]
    return [
        *lines,
        "Root-program blocks are listed beside the verdicts, never counted as revocations; a "
        "certificate on hold (certificateHold) is not revoked.",
        "",
        *items,
    ]


def _progress(inputs: ReportInputs) -> list[str]:
    rows = [
        [m.month, when(m.state_at), str(m.certificates), str(m.revoked_claimed), str(m.revoked_observed),
         str(m.remaining), str(m.expired)]
        for m in inputs.months
    ]  # fmt: skip
    header = ["Month", "State at", "Certificates", "Revoked so far (claimed)",
              "Revoked so far (first observed by ctwatch)", "Remaining", "Expired unrevoked"]  # fmt: skip
    return [
        f"## Progress by month: {escape_markdown(inputs.incident.ca_owner)}",
        "",
        *_table(header, rows),
        "",
        "Also in `progress.csv`; plotted in `revocation_progress.png`.",
    ]


def _plan_version(announced_at: datetime | None, source: str | None) -> str:
    if announced_at is None or source is None:
        return "none announced yet"
    return f"{when(announced_at)}, {literal_cell(source)}"


def _plan_lead(progress: PlanProgress) -> list[str]:
    in_force = in_force_at_as_of(progress)
    versions = [
        _plan_version(announced_at, source)
        + (" (in force at the evaluation)" if announced_at == in_force else "")
        for announced_at, source in plan_versions(progress)
    ]
    keys = ", ".join(markdown_literal(k) for k in progress.issuer_keys) or "none"
    return [
        "The CA's own schedule for replacing the leaf certificates of the affected issuing CAs, "
        "against the leaves ctwatch sees in CT and crt.sh and their revocations on the CAs' CRLs. "
        "Replaced: revoked or expired since the clock start, as a share of the baseline.",
        "",
        f"- Plan versions (announced, source): {'; '.join(versions) or 'none'}",
        f"- Clock start: {when(progress.clock_start)}",
        f"- Baseline: {baseline(progress)} leaves unexpired and unrevoked at the clock start",
        f"- Issuing CA keys (SPKI SHA-256): {keys}",
        f"- Behind: a milestone due by the evaluation more than {progress.behind_margin_points:g} points "
        "under its planned share",
    ]


def _promise_row(point: ProgressPoint, late_leaves: int) -> list[str]:
    figures = shown(point, late_leaves)
    state = figures["state"]
    return [
        cell(figures["milestone"]),
        figures["planned"],
        figures["measured"],
        figures["difference"],
        f"**{state}**" if point.state is PointState.BEHIND else state,
        _plan_version(point.plan_announced_at, point.plan_source),
    ]


def _month_row(point: ProgressPoint) -> list[str]:
    figures = shown(point, 0)
    return [
        cell(point.label),
        figures["planned_percent"],
        figures["measured_percent"],
        figures["remaining"],
        figures["revoked"],
        figures["expired"],
    ]


def _late_leaf_where(leaf: LateLeaf) -> str:
    places = []
    if leaf.first_ct is not None:
        ct = leaf.first_ct
        places.append(f"CT log {literal_cell(ct.log_id[:16])} entry {ct.entry_index} at {when(ct.timestamp)}")
    if leaf.crtsh_id is not None:
        places.append(f"crt.sh {literal_cell(crtsh_id_url(leaf.crtsh_id))}")
    return "; ".join(places) or "—"


def _late_leaves(progress: PlanProgress) -> list[str]:
    stops = [p for p in progress.points if p.kind is PointKind.STOP_ISSUANCE]
    if not stops:
        return []
    lines = ["### Leaves issued after the stop date", ""]
    late = progress.late_leaves
    if not late:
        return [*lines, f"None: no leaf of the affected keys has a notBefore after {when(stops[-1].at)}."]
    listed = late[:MAX_LATE_LEAVES_LISTED]
    rows = [
        [literal_cell(leaf.serial_hex), literal_cell(leaf.issuer_key[:16]), when(leaf.not_before),
         _late_leaf_where(leaf)]
        for leaf in listed
    ]  # fmt: skip
    lines += [
        f"{len(late)} leaves with a notBefore after the stop date {when(late[0].stop_issuance)}, "
        "earliest first (where: the earliest CT entry ctwatch holds, and crt.sh):",
        "",
        *_table(["Serial (hex)", "Issuer key", "notBefore", "Where"], rows),
    ]
    if len(late) > len(listed):
        lines += ["", f"And {len(late) - len(listed)} more."]
    return lines


def _how_measured(progress: PlanProgress) -> list[str]:
    lines = ["### How these figures were measured", "", *(f"- {prose(line)}" for line in progress.population)]
    for point in promises(progress):
        if point.explanation:
            lines.append(f"- {cell(milestone_label(point))}:")
            lines += [f"  - {prose(line)}" for line in point.explanation]
    return lines


def _plan(inputs: ReportInputs) -> list[str]:
    progress = inputs.plan
    if progress is None:
        return []
    late = len(progress.late_leaves)
    promise_header = ["Milestone", "Planned", "Measured", "Difference (points)", "State", "Plan version"]
    month_header = ["Month end / as-of", "Planned", "Measured", "Remaining of baseline", "Revoked", "Expired"]
    lines = [
        "## Plan vs evidence",
        "",
        *_plan_lead(progress),
        "",
        *_table(promise_header, [_promise_row(p, late) for p in promises(progress)]),
        "",
        *_table(month_header, [_month_row(p) for p in measurements(progress)]),
        "",
        "Also in `plan_progress.csv`; plotted in `plan_progress.png`.",
        "",
    ]
    late_section = _late_leaves(progress)
    if late_section:
        lines += [*late_section, ""]
    return [*lines, *_how_measured(progress)]


def _bug_rhythm(bug: LinkedBug) -> list[str]:
    rhythm = bug.rhythm()
    if isinstance(rhythm, Unchecked):
        return [f"  - 7-day rhythm not checked: {rhythm.value}"]
    longest = rhythm.longest
    lines = [
        f"  - CA updates (public comments by the assignee {markdown_literal(rhythm.assignee)}) from the "
        f"filing to {when(rhythm.checked_until)}: {len(rhythm.updates)}; longest gap "
        f"{_delay(longest.length if longest is not None else None)}; "
        f"7-day rhythm {'kept' if rhythm.kept else 'not kept'}; "
        f"{rhythm.gaps_over_recommended} gap(s) over the {RECOMMENDED_UPDATE_INTERVAL.days} days "
        "the IRG recommends"
    ]
    for gap in rhythm.gaps:
        if gap.too_long:
            end = f"at least {when(gap.end)}" if gap.open_ended else when(gap.end)
            lines.append(
                f"  - no update by the CA from {when(gap.start)} to {end} ({format_delay(gap.length)})"
            )
    return lines


def _rhythm(inputs: ReportInputs) -> list[str]:
    lines = ["## Bugzilla updates (7-day rhythm)", ""]
    if not inputs.bugs:
        return [*lines, "No bug linked."]
    lines += [
        "CCADB IRG v3.2: a revocation-delay report SHOULD be updated every "
        f"{RECOMMENDED_UPDATE_INTERVAL.days} days and MUST be updated no less frequently than every "
        f"{UPDATE_INTERVAL.days} days. The CA's updates are the public comments by the bug's assignee "
        "(the CA's representative), checked from the filing time, update to update, up to where "
        "ctwatch knows the comments (its latest comment fetch, or a later search that saw no change "
        "since); the gap after the last update only while a search saw the bug open.",
        "",
    ]
    for bug in inputs.bugs:
        latest = bug.latest
        state = " ".join(s for s in (latest.status, latest.resolution) if s) or "status unknown"
        lines.append(
            f"- Bug {bug.bug_id}: {escape_markdown(bug.summary)} (filed {when(bug.creation_time)}, "
            f"{escape_markdown(state)} as of {when(latest.observed_at)}; {escape_markdown(bug.how_linked)}; "
            f"{len(bug.sightings)} search(es) seen)"
        )
        lines += _bug_rhythm(bug)
    return lines


def _evidence(inputs: ReportInputs) -> list[str]:
    by_basis: dict[str, int] = {}
    for v in inputs.verdicts:
        by_basis[v.basis.value] = by_basis.get(v.basis.value, 0) + 1
    lines = [
        "## Evidence basis",
        "",
        "Verdicts by basis: " + ", ".join(f"{markdown_literal(b)} {n}" for b, n in sorted(by_basis.items())),
        "",
        "Only the CA's own CRL or OCSP settles a revocation. It was published on time when first seen "
        "listed by the deadline plus the 24-hour publication allowance; late only when ctwatch saw the "
        "CA's channel without it after that, by at least that observation and at most the first one "
        "listing it; a gap in ctwatch's own observations is not charged to the CA. `claimed_only`: "
        "listed by the CA, publication time not shown by ctwatch (the CA's claimed time decides); "
        "`reported_only`: only a report (CCADB, Mozilla) says revoked and nothing ctwatch saw "
        "contradicts it; `report_contradicted`: a report says revoked, the CA's channel seen later does "
        "not list it.",
    ]
    rest = [v for v in inputs.verdicts if v.basis in (Basis.CLAIMED_ONLY, Basis.REPORTED_ONLY)]
    if rest:
        lines.append(
            f"{len(rest)} verdict(s) are `claimed_only` or `reported_only`; each says why in the appendix."
        )
    lines += [
        "",
        f"Per certificate (evidence, bounds): {markdown_literal(inputs.certificate_list_file)}; "
        "the evidence chain of one verdict: `ctwatch explain <certificate SHA-256> --as-of "
        f"{inputs.evaluated_as_of:%Y-%m-%dT%H:%M:%SZ}`.",
    ]
    return lines


def incident_markdown(inputs: ReportInputs) -> str:
    i = inputs.incident
    header = [
        f"# Incident {markdown_literal(i.incident_id)}",
        "",
        f"Report as of {when(inputs.as_of)} (evaluation as of {when(inputs.evaluated_as_of)}).",
        "",
    ]
    sections = [_summary, _timeline, _counts, _key_groups, _beside, _progress, _plan, _rhythm, _evidence]
    body: list[str] = []
    for section in sections:
        lines = section(inputs)
        if lines:
            body += [*lines, ""]
    return "\n".join(header + body)
