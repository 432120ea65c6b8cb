"""`explain`: the evidence chain behind one certificate's verdicts, as plain text."""

from __future__ import annotations

from datetime import datetime

import duckdb

from ctwatch.evaluate.assess import assess, load_observations
from ctwatch.evaluate.config import EvaluationConfig
from ctwatch.evaluate.verdict import format_delay
from ctwatch.warehouse import load_sql


def _t(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def explain(
    con: duckdb.DuckDBPyConnection, der_sha256: str, as_of: datetime, config: EvaluationConfig
) -> str:
    """CT positions and tree heads, rule and citation, clock source, every revocation observation
    (those made after `as_of` marked as not yet known), and the verdict arithmetic. Reads only."""
    der_sha256 = der_sha256.lower()
    assessment = assess(con, as_of, config)
    lines = [f"certificate {der_sha256}", f"as of {_t(assessment.as_of)}", "", "CT evidence:"]
    positions = con.execute(load_sql("evaluate/ct_positions"), {"der_sha256": der_sha256}).fetchall()
    for kind, log_id, index, entry_at, leaf_hash, start, end, size, sth_at, root in positions:
        what = "earliest entry carrying it" if kind == "sighting" else "first seen at"
        lines.append(
            f"  log {log_id} entry {index} ({what}): timestamp {_t(entry_at)} leaf hash {leaf_hash or '-'}"
        )
        if size is not None:
            covered = f"covered by [{start}, {end}) under" if start is not None else "covered by"
            lines.append(f"    {covered} tree head size {size} at {_t(sth_at)} root {root}")
    if not positions:
        lines.append("  no CT position recorded")
    mine = [v for v in assessment.verdicts if v.der_sha256 == der_sha256]
    incidents = {i.incident_id: i for i in assessment.incidents}
    if not mine:
        lines += ["", "no incident covers this certificate as of this date"]
    for verdict in mine:
        incident = incidents[verdict.incident_id]
        lines += [
            "",
            f"incident {incident.incident_id} ({incident.status})",
            f"  rule {incident.rule_id}: {incident.rule_citation}"
            + ("" if verdict.has_finding else " (key group member)"),
            f"  CA owner {incident.ca_owner}; subordinate CA owner {verdict.subordinate_ca_owner or '-'}",
            f"  root stores: {', '.join(incident.root_stores) or 'none'} ({incident.scope_basis})",
            f"  clock start {_t(incident.clock_start)}: {incident.clock_source_detail or 'not started'}",
            f"  ctwatch first detection {_t(incident.first_detected_as_of)} (starts no clock)",
            f"  deadline {_t(verdict.deadline)}: {verdict.deadline_basis}",
            f"  verdict {verdict.status}"
            + (f" delay {format_delay(verdict.delay)}" if verdict.delay else "")
            + f" (basis {verdict.basis})",
        ]
        lines += [f"    {step}" for step in verdict.arithmetic]
        lines += [f"    bound: {bound}" for bound in verdict.bounds]
    lines += ["", "revocation observations:"]
    every = load_observations(con, [der_sha256], None).get(der_sha256, [])
    for observation in every:
        later = " [after the as-of: not used]" if observation.first_observed_at > assessment.as_of else ""
        lines.append(f"  {observation.describe()}{later}")
    if not every:
        lines.append("  none")
    return "\n".join(lines)
