"""Findings -> incidents -> deadlines -> verdicts, as of one instant, from the warehouse (read only).

Everything here reads evidence made by `as_of` and computes; `ctwatch.evaluate.store` writes the
result. See the package docstring for the rules this applies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

import duckdb

from ctwatch import rules
from ctwatch.evaluate.certs import CertInfo, load_certificates
from ctwatch.evaluate.clock import Clock, automatic_bug_ids, start_clock
from ctwatch.evaluate.config import KEY_DESTRUCTION_RULES, DeclaredIncident, EvaluationConfig, TrustScope
from ctwatch.evaluate.judgement import judge, unjudged
from ctwatch.evaluate.key_groups import key_groups
from ctwatch.evaluate.mentions import certificate_mentions
from ctwatch.evaluate.model import (
    Assessment,
    Disagreement,
    Incident,
    IncidentStatus,
    KeyGroupState,
    KeyGroupStatus,
    OutOfScope,
    Verdict,
)
from ctwatch.evaluate.scope import NO_CCADB_OWNER, Ccadb, Scope
from ctwatch.evaluate.verdict import Basis, Status, format_delay
from ctwatch.policy import RevocationReason, WindowAnswer, WindowKind, revocation_window
from ctwatch.revocation.settlement import CertificateEvidence, load_evidence
from ctwatch.timeutil import utc_or_none
from ctwatch.warehouse import query_dicts
from ctwatch.x509.model import CertKind

DETECTED_REASON: Final = RevocationReason.NOT_ISSUED_PER_REQUIREMENTS


def plain_utc(moment: datetime) -> datetime:
    """A stdlib UTC datetime (Airflow hands out pendulum subclasses, which msgspec cannot encode)."""
    moment = moment.astimezone(UTC)
    return datetime(
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
        moment.microsecond, tzinfo=UTC,
    )  # fmt: skip


def _rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return query_dicts(con, f"evaluate/{name}", params)


@dataclass(slots=True)
class _Subject:
    """A finding (or a declared certificate) placed in an incident."""

    der_sha256: str
    rule_id: str
    first_found_as_of: datetime | None
    declared: DeclaredIncident | None
    scope: Scope


def _incident_id(key: str, owner: str) -> str:
    return f"{key}:{owner}".replace("|", "/")


def _with_declared_owner(declared: DeclaredIncident | None, scope: Scope) -> Scope:
    """A certificate CCADB does not know takes the CA owner its declared incident names."""
    if declared is None or declared.ca_owner is None or scope.ca_owner != NO_CCADB_OWNER:
        return scope
    return replace(
        scope, ca_owner=declared.ca_owner, basis=f"{scope.basis}; the CA owner the incident declares"
    )


def window_for(declared: DeclaredIncident | None, cert: CertInfo, at: datetime) -> WindowAnswer:
    """The BR window for `cert` with a clock started at `at`: the declared window kind and reason,
    else the certificate's own kind (no window for roots, OCSP responders and other leaves); the
    Short-lived Subscriber Certificate exemption from the certificate's validity."""
    kind: WindowKind | CertKind
    if declared is not None and declared.window_kind is not None:
        kind = declared.window_kind
    else:
        try:
            kind = CertKind(cert.kind)
        except ValueError:
            kind = WindowKind.SUBORDINATE_CA if cert.is_ca else WindowKind.SUBSCRIBER
    reason = declared.reason if declared is not None and declared.reason is not None else DETECTED_REASON
    return revocation_window(kind, reason, at, validity_s=cert.validity_s, issued_at=cert.not_before)


def _rule_citation(rule_id: str) -> str:
    try:
        return rules.get_rule(rule_id).citation.short()
    except KeyError:
        return "declared incident (no registered rule)"


def _subjects(
    con: duckdb.DuckDBPyConnection, config: EvaluationConfig, ccadb: Ccadb, as_of: datetime
) -> tuple[list[_Subject], dict[str, CertInfo], list[OutOfScope]]:
    """The findings and declared certificates in scope, with their certificates; and those out of
    every root store and declaration, with why."""
    declared_rules = sorted({d.rule_id for d in config.incidents if d.rule_id})
    finding_rows = _rows(con, "findings", {"declared_rules": declared_rules})
    listed = {sha: d for d in config.incidents for sha in d.certificates}
    certs = load_certificates(con, der_sha256=[r["der_sha256"] for r in finding_rows] + list(listed))
    ccadb.prefetch_issuers(certs)
    subjects: list[_Subject] = []
    out_of_scope: list[OutOfScope] = []
    named: set[tuple[str, str]] = set()
    pairs = [(r["der_sha256"], r["rule_id"], utc_or_none(r["first_found_as_of"])) for r in finding_rows]
    pairs += [(sha, d.rule_id or f"declared:{d.incident_key}", None) for sha, d in listed.items()]
    for der, rule_id, first_found in pairs:
        cert = certs.get(der)
        if cert is None or not cert.visible_by(as_of) or (der, rule_id) in named:
            continue
        named.add((der, rule_id))
        naming = [d for d in (listed.get(der), *config.incidents) if d is not None and d.names(der, rule_id)]
        scope = ccadb.scope(der, naming[0].clock_start if naming else as_of)
        ccadb_owner = None if scope.ca_owner == NO_CCADB_OWNER else scope.ca_owner
        declared = next((d for d in naming if d.owns(ccadb_owner)), None)
        if declared is None and der in listed and rule_id == f"declared:{listed[der].incident_key}":
            why = f"incident {listed[der].incident_key} declares CA owner {listed[der].ca_owner!r}"
            out_of_scope.append(
                OutOfScope(der, rule_id, f"{why}, CCADB names {scope.ca_owner!r} ({scope.basis})")
            )
            continue
        scope = _with_declared_owner(declared, scope)
        trust_any = declared is not None and declared.trust_scope == TrustScope.ANY
        if not scope.stores and not trust_any:
            why = f"no root store includes its chain ({scope.basis})"
            why += ' and no incident with trust_scope = "any" names it'
            out_of_scope.append(OutOfScope(der, rule_id, why))
            continue
        found_by_then = first_found if first_found is not None and first_found <= as_of else None
        subjects.append(_Subject(der, rule_id, found_by_then, declared, scope))
    return subjects, certs, out_of_scope


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What every incident of one assessment reads, loaded once."""

    certs: Mapping[str, CertInfo]
    members_of_key: Mapping[str, list[CertInfo]]
    bugs: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    destroyed: Mapping[str, Mapping[str, Any]]


def assess(con: duckdb.DuckDBPyConnection, as_of: datetime, config: EvaluationConfig) -> Assessment:
    """The compliance state as of `as_of`, from evidence made by then. Reads only."""
    as_of = plain_utc(as_of)
    ccadb = Ccadb(con, as_of)
    subjects, certs, out_of_scope = _subjects(con, config, ccadb, as_of)
    grouped: dict[str, list[_Subject]] = defaultdict(list)
    for subject in subjects:
        key = subject.declared.incident_key if subject.declared else subject.rule_id
        grouped[_incident_id(key, subject.scope.ca_owner)].append(subject)
    spkis = {spki for s in subjects if (spki := certs[s.der_sha256].spki_sha256)}
    everything = dict(certs)
    everything.update(load_certificates(con, spki_sha256=spkis))
    members_of_key: dict[str, list[CertInfo]] = defaultdict(list)
    for cert in everything.values():
        if cert.spki_sha256 is not None and cert.spki_sha256 in spkis and cert.visible_by(as_of):
            members_of_key[cert.spki_sha256].append(cert)
    ccadb.prefetch_issuers(everything)
    shared = _Evidence(
        certs=everything,
        members_of_key=members_of_key,
        bugs=_rows(con, "bugs", {"as_of": as_of}),
        reports=_rows(con, "problem_reports", {"as_of": as_of}),
        destroyed={r["spki_sha256"]: r for r in _rows(con, "key_destructions", {"as_of": as_of})},
    )
    incidents: list[Incident] = []
    verdicts: list[Verdict] = []
    groups = []
    for incident_id in sorted(grouped):
        incident, incident_verdicts, incident_groups = _incident(
            con, incident_id, grouped[incident_id], shared=shared, ccadb=ccadb, as_of=as_of
        )
        incidents.append(incident)
        verdicts += incident_verdicts
        groups += incident_groups
    disagreements = [
        Disagreement(r["der_sha256"], r["kind"], utc_or_none(r["first_found_as_of"]) or as_of)
        for r in _rows(
            con, "disagreements", {"der_sha256": sorted({v.der_sha256 for v in verdicts}), "as_of": as_of}
        )
    ]
    return Assessment(
        as_of=as_of,
        incidents=tuple(incidents),
        verdicts=tuple(verdicts),
        key_groups=tuple(groups),
        disagreements=tuple(disagreements),
        out_of_scope=tuple(out_of_scope),
        config_sha256=config.sha256,
    )


def _members(group: list[_Subject], shared: _Evidence, expand_key_groups: bool) -> dict[str, CertInfo]:
    """The incident's certificates: those with the finding and, where the key must be destroyed,
    every certificate sharing their keys."""
    members: dict[str, CertInfo] = {}
    for subject in group:
        cert = shared.certs[subject.der_sha256]
        if expand_key_groups:
            for member in shared.members_of_key.get(cert.spki_sha256 or "", [cert]):
                members[member.der_sha256] = member
        members[cert.der_sha256] = cert
    return members


def incident_status(
    clock_started: bool, has_window: bool, groups: Sequence[KeyGroupStatus]
) -> IncidentStatus:
    """Where an incident stands: its clock, its BR window, then its key groups (all closed: closed;
    none open: revoked, awaiting key destruction)."""
    if not clock_started:
        return IncidentStatus.CLOCK_NOT_STARTED
    if not has_window:
        return IncidentStatus.NO_WINDOW
    if all(g.status == KeyGroupState.CLOSED for g in groups):
        return IncidentStatus.CLOSED
    if all(g.status != KeyGroupState.OPEN for g in groups):
        return IncidentStatus.AWAITING_KEY_DESTRUCTION
    return IncidentStatus.OPEN


def _incident(
    con: duckdb.DuckDBPyConnection,
    incident_id: str,
    group: list[_Subject],
    *,
    shared: _Evidence,
    ccadb: Ccadb,
    as_of: datetime,
) -> tuple[Incident, list[Verdict], list[Any]]:
    first = group[0]
    declared, owner, rule_id = first.declared, first.scope.ca_owner, first.rule_id
    destruction_required = declared.key_destruction_required if declared else rule_id in KEY_DESTRUCTION_RULES
    finding_ders = {s.der_sha256 for s in group}
    members = _members(group, shared, destruction_required)
    detections = [s.first_found_as_of for s in group if s.first_found_as_of is not None]
    first_detected = min(detections, default=None)
    mentions = []
    if declared is None:
        mentions = certificate_mentions(con, automatic_bug_ids(shared.bugs, owner), members, as_of)
    clock = start_clock(
        declared, owner, rule_id, members, shared.bugs, mentions, shared.reports, first_detected, as_of
    )
    lead = next(
        (shared.certs[s.der_sha256] for s in group if shared.certs[s.der_sha256].kind != "root"), None
    )
    answer = window_for(declared, lead, clock.start) if clock and lead else None
    incident_deadline = clock.start + answer.window if clock and answer and answer.window else None
    evidence = load_evidence(con, members, as_of)
    member_verdicts = [
        _verdict(
            incident_id, member, member.der_sha256 in finding_ders, declared, owner, clock, incident_deadline,
            evidence[member.der_sha256], as_of,
            _with_declared_owner(declared, ccadb.scope(member.der_sha256, clock.start if clock else as_of)),
        )
        for member in sorted(members.values(), key=lambda m: (m.not_before or as_of, m.der_sha256))
    ]  # fmt: skip
    groups = key_groups(incident_id, member_verdicts, destruction_required, shared.destroyed)
    status = incident_status(clock is not None, incident_deadline is not None, groups)
    incident = Incident(
        incident_id=incident_id,
        rule_id=rule_id,
        rule_citation=_rule_citation(rule_id),
        declared_id=declared.incident_key if declared else None,
        ca_owner=owner,
        subordinate_ca_owners=tuple(
            sorted({v.subordinate_ca_owner for v in member_verdicts if v.subordinate_ca_owner})
        ),
        root_stores=tuple(sorted({store for s in group for store in s.scope.stores})),
        scope_basis=first.scope.basis,
        clock_start=clock.start if clock else None,
        clock_source=clock.source if clock else None,
        clock_source_detail=clock.detail if clock else None,
        first_detected_as_of=first_detected,
        window_kind=str(answer.window_kind) if answer and answer.window_kind else None,
        window=answer.window if answer else None,
        deadline=incident_deadline,
        publication_allowance=answer.publication_allowance if answer else None,
        window_citation=answer.citation.short() if answer else None,
        key_destruction_required=destruction_required,
        certificates=len(member_verdicts),
        key_groups=len(groups),
        status=status,
    )
    return incident, member_verdicts, groups


def _deadline(
    member: CertInfo, clock: Clock, answer: WindowAnswer, incident_deadline: datetime | None
) -> tuple[datetime | None, str]:
    """The member's deadline and how it was computed."""
    if answer.window is None:
        return None, f"no window: {answer.exempt_reason}"
    revoke_by = clock.start + answer.window
    basis = (
        f"clock start {clock.start:%Y-%m-%dT%H:%M:%SZ} ({clock.source}) + {format_delay(answer.window)}"
        f" ({answer.citation.short()})"
    )
    issued = member.issued_at
    if issued is not None and issued > clock.start and issued + answer.window > revoke_by:
        # Issued after the clock start with the problem: the CA knew at issuance. The earlier of its
        # notBefore and first CT time: logging late never buys time.
        how = (
            "first CT entry" if issued == member.first_ct_at and issued != member.not_before else "notBefore"
        )
        return issued + answer.window, (
            f"issued after the clock start: {how} {issued:%Y-%m-%dT%H:%M:%SZ} + {format_delay(answer.window)}"
            f" ({answer.citation.short()}), later than the incident deadline"
            + (f" {incident_deadline:%Y-%m-%dT%H:%M:%SZ}" if incident_deadline else "")
        )
    return revoke_by, basis


def _verdict(  # noqa: PLR0917 - one call site, each argument a different input
    incident_id: str,
    member: CertInfo,
    has_finding: bool,
    declared: DeclaredIncident | None,
    owner: str,
    clock: Clock | None,
    incident_deadline: datetime | None,
    evidence: CertificateEvidence,
    as_of: datetime,
    scope: Scope,
) -> Verdict:
    deadline: datetime | None = None
    if member.kind == CertKind.ROOT:
        deadline_basis = "root certificate: a root-program action item, no revocation clock"
        judgement = unjudged(
            Status.ROOT_PROGRAM_ACTION, Basis.ROOT,
            "A root certificate: an action item for the root programs, no revocation clock.", evidence, as_of,
        )  # fmt: skip
    elif scope.ca_owner not in (owner, NO_CCADB_OWNER) and not (
        declared and member.der_sha256 in declared.certificates
    ):
        deadline_basis = f"issued under another CA owner ({scope.ca_owner}): that owner's notification item"
        judgement = unjudged(
            Status.OTHER_OWNER, Basis.OTHER_OWNER,
            f"A certificate of this key issued under another CA owner, {scope.ca_owner}: notified to that "
            "owner, no deadline in this incident.",
            evidence, as_of,
        )  # fmt: skip
    else:
        answer = window_for(declared, member, clock.start) if clock is not None else None
        if clock is None or answer is None:
            deadline_basis = "no clock started"
            no_window = None
            allowance = window_for(declared, member, as_of).publication_allowance
        else:
            deadline, deadline_basis = _deadline(member, clock, answer, incident_deadline)
            no_window = answer.exempt_reason
            allowance = answer.publication_allowance
        judgement = judge(
            as_of=as_of,
            clock_start=clock.start if clock else None,
            deadline=deadline,
            publication_allowance=allowance,
            not_after=member.not_after,
            evidence=evidence,
            no_window=no_window,
        )
    planned = declared.planned_revocations.get(member.der_sha256) if declared else None
    return Verdict(
        incident_id=incident_id,
        der_sha256=member.der_sha256,
        precert_der_sha256=member.precert_der_sha256,
        spki_sha256=member.spki_sha256,
        has_finding=has_finding,
        kind=member.kind,
        ca_owner=scope.ca_owner,
        subordinate_ca_owner=scope.subordinate_ca_owner,
        subject=member.subject,
        issuer=member.issuer,
        serial_hex=member.serial_hex,
        not_before=member.not_before,
        not_after=member.not_after,
        dns_names=None if member.is_ca else member.dns_names,
        first_ct_at=member.first_ct_at,
        first_ct_basis=member.first_ct_basis,
        deadline=deadline,
        deadline_basis=deadline_basis,
        planned_revocation_at=planned,
        publish_by=judgement.publish_by,
        status=judgement.status,
        delay=judgement.delay,
        delay_max=judgement.delay_max,
        basis=judgement.basis,
        basis_text=judgement.basis_text,
        revoked_at_claimed=judgement.revoked_at_claimed,
        revocation_reason=judgement.revocation_reason,
        first_observed_revoked_at=judgement.first_observed_revoked_at,
        last_observed_absent_at=judgement.last_observed_absent_at,
        bounds=judgement.bounds,
        arithmetic=judgement.arithmetic or (deadline_basis,),
        evidence=(
            *(x.describe() for x in (*evidence.listings, *evidence.holds)),
            *(a.describe() for a in evidence.absences),
            *(c.describe() for c in evidence.claims),
        ),
        findings=judgement.findings,
        root_program_actions=judgement.root_program_actions,
    )
