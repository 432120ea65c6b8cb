"""`explain`: the evidence chain behind one certificate's verdicts, as plain text."""

from __future__ import annotations

from datetime import datetime

import duckdb

from ctwatch.evaluate.assess import assess
from ctwatch.evaluate.config import EvaluationConfig
from ctwatch.evaluate.verdict import format_delay
from ctwatch.revocation.settlement import load_evidence
from ctwatch.timeutil import iso_z
from ctwatch.warehouse import load_sql, query_dicts


def _t(moment: datetime | None) -> str:
    return "-" if moment is None else iso_z(moment)


def _ct_lines(con: duckdb.DuckDBPyConnection, der_sha256: str) -> list[str]:
    lines = ["CT evidence:"]
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
    return lines


def explain(
    con: duckdb.DuckDBPyConnection, der_sha256: str, as_of: datetime, config: EvaluationConfig
) -> str:
    """CT positions and tree heads, rule and citation, clock source, the verdict with its basis in
    words and its arithmetic, what the CA's own channels showed (listings, and the CRL versions and
    OCSP answers checked that do not list it), reports and root-program blocks, and every stored
    revocation observation (those made after `as_of` marked as not yet known). Reads only."""
    der_sha256 = der_sha256.lower()
    stored = con.execute(load_sql("evaluate/certificate_known"), {"der_sha256": der_sha256}).fetchone()
    if stored is None or not stored[0]:
        return f"certificate {der_sha256} is not in the warehouse: nothing to explain"
    assessment = assess(con, as_of, config)
    lines = [f"certificate {der_sha256}", f"as of {_t(assessment.as_of)}", "", *_ct_lines(con, der_sha256)]
    mine = [v for v in assessment.verdicts if v.der_sha256 == der_sha256]
    incidents = {i.incident_id: i for i in assessment.incidents}
    excluded = [o for o in assessment.out_of_scope if o.der_sha256 == der_sha256]
    for out in excluded:
        lines += ["", f"rule {out.rule_id} flags it, but no incident covers it: {out.why}"]
    if not mine and not excluded:
        lines += ["", "no rule flags it and no declared incident names it as of this date"]
    for verdict in mine:
        incident = incidents[verdict.incident_id]
        delay = ""
        if verdict.delay is not None:
            delay = f" delay {format_delay(verdict.delay)}"
            if verdict.delay_max is not None and verdict.delay_max != verdict.delay:
                delay = f" delay {format_delay(verdict.delay)} to {format_delay(verdict.delay_max)}"
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
            f"  publication deadline {_t(verdict.publish_by)}",
            f"  verdict {verdict.status}{delay} (basis {verdict.basis})",
            f"  basis: {verdict.basis_text}",
        ]
        lines += [f"    {step}" for step in verdict.arithmetic]
        lines += [f"    also weighed: {bound}" for bound in verdict.bounds]
        lines += [f"  finding: {finding}" for finding in verdict.findings]
        lines += [f"  root-program action: {action}" for action in verdict.root_program_actions]
    evidence = load_evidence(con, [der_sha256], assessment.as_of)[der_sha256]
    lines += ["", "the CA's own channels (CRL, OCSP) by the as-of:"]
    channel = [x.describe() for x in (*evidence.listings, *evidence.holds)]
    channel += [f"checked, does not list it: {a.describe()}" for a in evidence.absences]
    lines += [f"  {line}" for line in channel] or ["  nothing observed"]
    lines += ["reports and root-program blocks by the as-of:"]
    others = [c.describe() for c in evidence.claims] + [b.describe() for b in evidence.blocks]
    lines += [f"  {line}" for line in others] or ["  none"]
    lines += ["", "every stored revocation observation:"]
    every = query_dicts(con, "evaluate/observations", {"der_sha256": [der_sha256], "as_of": None})
    for row in every:
        later = " [after the as-of: not used]" if row["first_observed_at"] > assessment.as_of else ""
        digest = f" sha256 {row['evidence_sha256']}" if row["evidence_sha256"] else ""
        lines.append(
            f"  {row['source']} (observer {row['observer']}): claimed {_t(row['revoked_at_claimed'])}, "
            f"reason {row['reason'] or '-'}, first observed {_t(row['first_observed_at'])}, last seen "
            f"without it {_t(row['last_observed_absent_at'])}; {row['evidence_ref'] or '?'}{digest}{later}"
        )
    if not every:
        lines.append("  none")
    return "\n".join(lines)
