"""Findings -> incidents -> deadlines -> verdicts, as of one instant, from the warehouse (read only).

Everything here reads evidence made by `as_of` and computes; `ctwatch.evaluate.store` writes the
result. See the package docstring for the rules this applies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import duckdb

from ctwatch import rules
from ctwatch.evaluate.config import KEY_DESTRUCTION_RULES, DeclaredIncident, EvaluationConfig, TrustScope
from ctwatch.evaluate.links import AUTOMATIC, bug_link
from ctwatch.evaluate.model import (
    Assessment,
    Disagreement,
    Incident,
    IncidentStatus,
    KeyGroupState,
    KeyGroupStatus,
    Verdict,
)
from ctwatch.evaluate.verdict import Basis, Observation, Status, format_delay, judge
from ctwatch.policy import RevocationReason, WindowAnswer, WindowKind, deadline, revocation_window
from ctwatch.timeutil import utc_or_none
from ctwatch.warehouse import query_dicts
from ctwatch.x509.model import CertKind

NO_CCADB_OWNER: Final = "(not in CCADB)"
DETECTED_REASON: Final = RevocationReason.NOT_ISSUED_PER_REQUIREMENTS
MAX_CHAIN_DEPTH: Final = 6
# How a certificate's first CT time is known (the start of `CertInfo.first_ct_basis`).
FIRST_CT_ENTRY: Final = "ct_entry_timestamp"
FIRST_CT_TREE_HEAD: Final = "ct_tree_head"
FIRST_CT_NONE: Final = "no_ct_position"
_STORE_NAMES: Final = {
    "apple": "Apple",
    "chrome": "Chrome",
    "google chrome": "Chrome",
    "microsoft": "Microsoft",
    "mozilla": "Mozilla",
}


def plain_utc(moment: datetime) -> datetime:
    """A stdlib UTC datetime (Airflow hands out pendulum subclasses, which msgspec cannot encode)."""
    moment = moment.astimezone(UTC)
    return datetime(
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
        moment.microsecond, tzinfo=UTC,
    )  # fmt: skip


def _rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return query_dicts(con, f"evaluate/{name}", params)


@dataclass(frozen=True, slots=True)
class CertInfo:
    der_sha256: str
    spki_sha256: str | None
    kind: str
    is_ca: bool
    subject: str | None
    issuer: str | None
    serial_hex: str | None
    not_before: datetime | None
    not_after: datetime | None
    dns_names: tuple[str, ...]
    first_ct_at: datetime | None  # exact entry time, or the covering tree head (upper bound)
    first_ct_basis: str
    precert_der_sha256: str | None

    @property
    def first_public_at(self) -> datetime | None:
        """When the world could first see it: its CT time, else its notBefore."""
        return self.first_ct_at or self.not_before

    def visible_by(self, as_of: datetime) -> bool:
        seen = self.first_public_at
        return seen is None or seen <= as_of


def _first_ct(row: dict[str, Any]) -> tuple[datetime | None, str]:
    """The first CT time and its basis: the earliest recorded sighting's entry timestamp; for a
    certificate loaded before sightings were kept, its first_seen_source entry (timestamp if the
    leaf was kept, else the covering tree head's, an upper bound)."""
    sighting_at = utc_or_none(row["sighting_at"])
    if sighting_at is not None:
        return sighting_at, f"{FIRST_CT_ENTRY}: {row['sighting_log_id']}#{row['sighting_index']}"
    position = f"{row['ct_log_id']}#{row['ct_index']}"
    entry_at, covered_at = utc_or_none(row["ct_entry_at"]), utc_or_none(row["ct_covered_at"])
    if entry_at is not None:
        return entry_at, f"{FIRST_CT_ENTRY}: {position}"
    if covered_at is not None:
        return covered_at, f"{FIRST_CT_TREE_HEAD}: covering {position} (upper bound; entry not kept)"
    return None, f"{FIRST_CT_NONE}: no CT position recorded"


def _cert_info(row: dict[str, Any]) -> CertInfo:
    first_ct_at, basis = _first_ct(row)
    return CertInfo(
        der_sha256=row["der_sha256"],
        spki_sha256=row["spki_sha256"],
        kind=row["kind"],
        is_ca=bool(row["is_ca"]),
        subject=row["subject_rfc4514"],
        issuer=row["issuer_rfc4514"],
        serial_hex=row["serial_hex"],
        not_before=utc_or_none(row["not_before"]),
        not_after=utc_or_none(row["not_after"]),
        dns_names=tuple(row["san_dns_names"] or ()),
        first_ct_at=first_ct_at,
        first_ct_basis=basis,
        precert_der_sha256=row["precert_der_sha256"],
    )


def load_certificates(
    con: duckdb.DuckDBPyConnection, *, der_sha256: Iterable[str] = (), spki_sha256: Iterable[str] = ()
) -> dict[str, CertInfo]:
    rows = _rows(
        con, "certificates", {"der_sha256": sorted(set(der_sha256)), "spki_sha256": sorted(set(spki_sha256))}
    )
    return {row["der_sha256"]: _cert_info(row) for row in rows}


@dataclass(frozen=True, slots=True)
class _Scope:
    ca_owner: str
    subordinate_ca_owner: str | None
    stores: tuple[str, ...]
    basis: str


class _Ccadb:
    """CCADB records of the snapshot nearest a given time, with a chain walk to the root."""

    def __init__(self, con: duckdb.DuckDBPyConnection, as_of: datetime) -> None:
        self._con = con
        self._snapshots = [
            (int(r["id"]), utc_or_none(r["observed_at"]))
            for r in _rows(con, "ccadb_snapshots", {"as_of": as_of})
        ]
        self._records: dict[int, dict[str, dict[str, Any]]] = {}
        self._issuers: dict[str, list[str]] = {}

    def _snapshot_for(self, at: datetime) -> tuple[int, str] | None:
        if not self._snapshots:
            return None
        before = [s for s in self._snapshots if s[1] is not None and s[1] <= at]
        snapshot_id, observed_at = before[-1] if before else self._snapshots[0]
        when = observed_at.strftime("%Y-%m-%dT%H:%MZ") if observed_at else "?"
        side = "at or before" if before else "after (none earlier)"
        return snapshot_id, f"CCADB snapshot {when}, {side} {at.strftime('%Y-%m-%dT%H:%MZ')}"

    def _records_of(self, snapshot_id: int) -> dict[str, dict[str, Any]]:
        if snapshot_id not in self._records:
            rows = _rows(self._con, "ccadb_records", {"snapshot_id": snapshot_id})
            self._records[snapshot_id] = {r["der_sha256"]: r for r in rows}
        return self._records[snapshot_id]

    def prefetch_issuers(self, der_sha256: Iterable[str]) -> None:
        """Load the stored issuers of these certificates and of their issuers, up the chain."""
        pending = set(der_sha256) - set(self._issuers)
        for _ in range(MAX_CHAIN_DEPTH):
            if not pending:
                return
            found: dict[str, list[str]] = {d: [] for d in pending}
            for row in _rows(self._con, "issuers", {"der_sha256": sorted(pending)}):
                found[row["der_sha256"]].append(row["issuer_der_sha256"])
            self._issuers.update(found)
            pending = {i for issuers in found.values() for i in issuers} - set(self._issuers)

    def scope(self, der_sha256: str, at: datetime) -> _Scope:
        chosen = self._snapshot_for(at)
        if chosen is None:
            return _Scope(NO_CCADB_OWNER, None, (), "no CCADB snapshot by the as-of")
        snapshot_id, basis = chosen
        records = self._records_of(snapshot_id)
        record, via = self._own_or_ancestor(records, der_sha256)
        if record is None:
            return _Scope(NO_CCADB_OWNER, None, (), f"{basis}: neither it nor a stored issuer is listed")
        stores = self._stores(records, record)
        owner = record["ca_owner"] or NO_CCADB_OWNER
        note = "" if via == der_sha256 else f" (through issuer {via[:16]})"
        return _Scope(owner, record["subordinate_ca_owner"] or None, stores, f"{basis}{note}")

    def _own_or_ancestor(
        self, records: dict[str, dict[str, Any]], der_sha256: str
    ) -> tuple[dict[str, Any] | None, str]:
        frontier, seen = [der_sha256], {der_sha256}
        for _ in range(MAX_CHAIN_DEPTH):
            for der in frontier:
                if der in records:
                    return records[der], der
            frontier = [i for d in frontier for i in self._issuers.get(d, []) if i not in seen]
            seen.update(frontier)
        return None, der_sha256

    @staticmethod
    def _stores(records: dict[str, dict[str, Any]], record: dict[str, Any]) -> tuple[str, ...]:
        """Stores that include the root the record's chain reaches (root fields or 'Status of Root Cert')."""
        stores: set[str] = set()
        current: dict[str, Any] | None = record
        for _ in range(MAX_CHAIN_DEPTH):
            if current is None:
                break
            for part in (current["root_status"] or "").split(";"):
                label, _, status = part.partition(":")
                name = _STORE_NAMES.get(label.strip().lower())
                if name and status.strip().lower() == "included":
                    stores.add(name)
            if (current["record_type"] or "").lower().startswith("root"):
                for field, name in (
                    ("apple_status", "Apple"),
                    ("chrome_status", "Chrome"),
                    ("microsoft_status", "Microsoft"),
                    ("mozilla_status", "Mozilla"),
                ):
                    if (current[field] or "").strip().lower() == "included":
                        stores.add(name)
                break
            parent = current["parent_der_sha256"]
            current = records.get(parent) if parent else None
        return tuple(sorted(stores))


@dataclass(slots=True)
class _Subject:
    """A finding (or a declared certificate) placed in an incident."""

    der_sha256: str
    rule_id: str
    first_found_as_of: datetime | None
    declared: DeclaredIncident | None
    scope: _Scope


@dataclass(frozen=True, slots=True)
class _Clock:
    start: datetime
    source: str
    detail: str


def _incident_id(key: str, owner: str) -> str:
    return f"{key}:{owner}".replace("|", "/")


def _clock(  # noqa: PLR0917 - one call site, each argument a different evidence kind
    declared: DeclaredIncident | None,
    owner: str,
    rule_id: str,
    members: Sequence[CertInfo],
    bugs: Sequence[dict[str, Any]],
    reports: Sequence[dict[str, Any]],
    as_of: datetime,
) -> _Clock | None:
    """The earliest demonstrable awareness by `as_of`: declared disclosure, linked bug, problem report."""
    candidates: list[_Clock] = []
    if declared is not None and declared.clock_start <= as_of:
        candidates.append(_Clock(declared.clock_start, "public_disclosure", declared.clock_source))
    earliest_issued = min((m.not_before for m in members if m.not_before), default=None)
    linked_ids = set(declared.bug_ids) if declared else set()
    for bug in bugs:
        created = utc_or_none(bug["creation_time"])
        assert created is not None  # NOT NULL column
        how = bug_link(
            bug["bug_id"],
            bug["ca_owner"],
            bool(bug["revocation_delay_tags"]),
            owner=owner,
            configured_ids=linked_ids,
        )
        # an unlisted bug filed before the certificates existed is about something else
        if how == AUTOMATIC and earliest_issued is not None and created < earliest_issued:
            continue
        if how is not None:
            candidates.append(
                _Clock(created, "bugzilla_filing", f"Bugzilla {bug['bug_id']}: {bug['summary']} ({how})")
            )
    member_ders = {m.der_sha256 for m in members}
    for report in reports:
        if report["ca_owner"] != owner:
            continue
        if report["rule_id"] not in (None, rule_id):
            continue
        if report["der_sha256"] is not None and report["der_sha256"] not in member_ders:
            continue
        sent = utc_or_none(report["sent_at"])
        assert sent is not None  # NOT NULL column
        link = f" {report['link']}" if report["link"] else ""
        candidates.append(
            _Clock(
                sent, "problem_report", f"problem report {report['report_id']} to {report['recipient']}{link}"
            )
        )
    return min(candidates, key=lambda c: (c.start, c.source)) if candidates else None


def _window(declared: DeclaredIncident | None, kind: str, at: datetime) -> WindowAnswer:
    if declared is not None:
        return revocation_window(declared.window_kind, declared.reason, at)
    try:
        cert_kind: WindowKind | CertKind = CertKind(kind)
    except ValueError:
        cert_kind = WindowKind.SUBORDINATE_CA if kind else WindowKind.SUBSCRIBER
    return revocation_window(cert_kind, DETECTED_REASON, at)


def _observation(row: dict[str, Any]) -> Observation:
    first = utc_or_none(row["first_observed_at"])
    last = utc_or_none(row["last_observed_at"])
    assert first is not None  # NOT NULL column
    assert last is not None  # NOT NULL column
    return Observation(
        source=row["source"],
        observer=row["observer"],
        revoked_at_claimed=utc_or_none(row["revoked_at_claimed"]),
        reason=row["reason"],
        first_observed_at=first,
        last_observed_at=last,
        last_observed_absent_at=utc_or_none(row["last_observed_absent_at"]),
        evidence_sha256=row["evidence_sha256"],
        evidence_ref=row["evidence_ref"],
    )


def load_observations(
    con: duckdb.DuckDBPyConnection, der_sha256: Iterable[str], as_of: datetime | None
) -> dict[str, list[Observation]]:
    """Observations per certificate made by `as_of` (every one when None), deduplicated."""
    found: dict[str, list[Observation]] = defaultdict(list)
    for row in _rows(con, "observations", {"der_sha256": sorted(set(der_sha256)), "as_of": as_of}):
        observation = _observation(row)
        if observation not in found[row["certificate_der_sha256"]]:
            found[row["certificate_der_sha256"]].append(observation)
    return found


def _rule_citation(rule_id: str) -> str:
    try:
        return rules.get_rule(rule_id).citation.short()
    except KeyError:
        return "declared incident (no registered rule)"


def assess(con: duckdb.DuckDBPyConnection, as_of: datetime, config: EvaluationConfig) -> Assessment:
    """The compliance state as of `as_of`, from evidence made by then. Reads only."""
    as_of = plain_utc(as_of)
    declared_rules = sorted({d.rule_id for d in config.incidents if d.rule_id})
    finding_rows = _rows(con, "findings", {"declared_rules": declared_rules})
    listed = {sha: d for d in config.incidents for sha in d.certificates}
    certs = load_certificates(con, der_sha256=[r["der_sha256"] for r in finding_rows] + list(listed))
    ccadb = _Ccadb(con, as_of)
    ccadb.prefetch_issuers(certs)

    subjects: list[_Subject] = []
    out_of_scope = 0
    named: set[tuple[str, str]] = set()
    pairs = [(r["der_sha256"], r["rule_id"], utc_or_none(r["first_found_as_of"])) for r in finding_rows]
    pairs += [(sha, d.rule_id or f"declared:{d.incident_key}", None) for sha, d in listed.items()]
    for der, rule_id, first_found in pairs:
        cert = certs.get(der)
        if cert is None or not cert.visible_by(as_of) or (der, rule_id) in named:
            continue
        named.add((der, rule_id))
        declared = listed.get(der) or next((d for d in config.incidents if d.names(der, rule_id)), None)
        scope = ccadb.scope(der, declared.clock_start if declared else as_of)
        trust_any = declared is not None and declared.trust_scope == TrustScope.ANY
        if not scope.stores and not trust_any:
            out_of_scope += 1
            continue
        found_by_then = first_found if first_found is not None and first_found <= as_of else None
        subjects.append(_Subject(der, rule_id, found_by_then, declared, scope))

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
    bugs = _rows(con, "bugs", {"as_of": as_of})
    reports = _rows(con, "problem_reports", {"as_of": as_of})
    destroyed = {r["spki_sha256"]: r for r in _rows(con, "key_destructions", {"as_of": as_of})}
    observations = load_observations(con, everything, as_of)

    incidents: list[Incident] = []
    verdicts: list[Verdict] = []
    key_groups: list[KeyGroupStatus] = []
    for incident_id in sorted(grouped):
        group = grouped[incident_id]
        first = group[0]
        declared, owner, rule_id = first.declared, first.scope.ca_owner, first.rule_id
        finding_ders = {s.der_sha256 for s in group}
        members: dict[str, CertInfo] = {}
        for subject in group:
            cert = everything[subject.der_sha256]
            for member in members_of_key.get(cert.spki_sha256 or "", [cert]):
                members[member.der_sha256] = member
            members[cert.der_sha256] = cert
        clock = _clock(declared, owner, rule_id, list(members.values()), bugs, reports, as_of)
        lead = next(
            (everything[s.der_sha256] for s in group if everything[s.der_sha256].kind != "root"), None
        )
        answer = _window(declared, lead.kind, clock.start) if clock and lead else None
        incident_deadline = deadline(clock.start, answer) if clock and answer else None
        destruction_required = (
            declared.key_destruction_required if declared else rule_id in KEY_DESTRUCTION_RULES
        )
        member_verdicts = [
            _verdict(
                incident_id, member, member.der_sha256 in finding_ders, declared, clock,
                observations.get(member.der_sha256, []), config, as_of,
                ccadb.scope(member.der_sha256, clock.start if clock else as_of),
            )
            for member in sorted(members.values(), key=lambda m: (m.not_before or as_of, m.der_sha256))
        ]  # fmt: skip
        verdicts.extend(member_verdicts)
        groups = _key_groups(incident_id, member_verdicts, destruction_required, destroyed)
        key_groups.extend(groups)
        if clock is None:
            status = IncidentStatus.CLOCK_NOT_STARTED
        elif all(g.status == KeyGroupState.CLOSED for g in groups):
            status = IncidentStatus.CLOSED
        elif all(g.status != KeyGroupState.OPEN for g in groups):
            status = IncidentStatus.AWAITING_KEY_DESTRUCTION
        else:
            status = IncidentStatus.OPEN
        detections = [s.first_found_as_of for s in group if s.first_found_as_of is not None]
        incidents.append(
            Incident(
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
                first_detected_as_of=min(detections, default=None),
                window_kind=str(answer.window_kind) if answer and answer.window_kind else None,
                window=answer.window if answer else None,
                deadline=incident_deadline.revoke_by if incident_deadline else None,
                publication_allowance=answer.publication_allowance if answer else None,
                window_citation=answer.citation.short() if answer else None,
                key_destruction_required=destruction_required,
                certificates=len(member_verdicts),
                key_groups=len(groups),
                status=status,
            )
        )
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
        key_groups=tuple(key_groups),
        disagreements=tuple(disagreements),
        out_of_scope=out_of_scope,
        config_sha256=config.sha256,
    )


def _verdict(  # noqa: PLR0917 - one call site, each argument a different input
    incident_id: str,
    member: CertInfo,
    has_finding: bool,
    declared: DeclaredIncident | None,
    clock: _Clock | None,
    observations: Sequence[Observation],
    config: EvaluationConfig,
    as_of: datetime,
    scope: _Scope,
) -> Verdict:
    evidence = tuple(o.describe() for o in observations)
    revoke_by: datetime | None = None
    allowance = timedelta(0)
    if member.kind == CertKind.ROOT:
        deadline_basis = "root certificate: a root-program action item, no revocation clock"
        judgement = None
    else:
        answer = _window(declared, member.kind, clock.start) if clock is not None else None
        if clock is None or answer is None:
            deadline_basis = "no clock started"
        elif answer.window is None:
            deadline_basis = f"no window: {answer.exempt_reason}"
        else:
            allowance = answer.publication_allowance
            revoke_by = clock.start + answer.window
            deadline_basis = (
                f"clock start {clock.start:%Y-%m-%dT%H:%MZ} ({clock.source}) + {format_delay(answer.window)}"
                f" ({answer.citation.short()})"
            )
            seen = member.first_public_at
            issued_after_start = member.not_before is not None and member.not_before > clock.start
            if issued_after_start and seen is not None and seen + answer.window > revoke_by:
                # Issued after the clock start (a re-issue): its own window from when it became public.
                # A certificate issued before the start but logged late gets no extra time: the CA
                # knew its own certificates when the clock started.
                revoke_by = seen + answer.window
                deadline_basis = (
                    f"issued after the clock start: first public {seen:%Y-%m-%dT%H:%MZ}"
                    f" ({member.first_ct_basis if member.first_ct_at else 'notBefore'})"
                    f" + {format_delay(answer.window)}, later than the incident deadline"
                )
        judgement = judge(
            as_of=as_of,
            clock_start=clock.start if clock else None,
            deadline=revoke_by,
            publication_allowance=allowance,
            not_after=member.not_after,
            observations=observations,
            polling_interval=config.polling_interval,
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
        deadline=revoke_by,
        deadline_basis=deadline_basis,
        planned_revocation_at=planned,
        status=judgement.status if judgement else Status.ROOT_PROGRAM_ACTION,
        delay=judgement.delay if judgement else None,
        basis=judgement.basis if judgement else Basis.ROOT,
        revoked_at_claimed=judgement.revoked_at_claimed if judgement else None,
        revocation_reason=judgement.revocation_reason if judgement else None,
        first_observed_revoked_at=judgement.first_observed_revoked_at if judgement else None,
        bounds=judgement.bounds if judgement else (),
        arithmetic=judgement.arithmetic if judgement else (deadline_basis,),
        evidence=evidence,
    )


def _key_groups(
    incident_id: str,
    verdicts: Sequence[Verdict],
    destruction_required: bool,
    destroyed: dict[str, dict[str, Any]],
) -> list[KeyGroupStatus]:
    by_key: dict[str, list[Verdict]] = defaultdict(list)
    for verdict in verdicts:
        by_key[verdict.spki_sha256 or f"no-key:{verdict.der_sha256}"].append(verdict)
    groups = []
    for spki, members in sorted(by_key.items()):
        waited = [v for v in members if v.status is not Status.ROOT_PROGRAM_ACTION]
        revoked = sum(v.status.settled and v.status is not Status.EXPIRED_UNREVOKED for v in waited)
        expired = sum(v.status is Status.EXPIRED_UNREVOKED for v in waited)
        delays = [v.delay for v in waited if v.delay is not None and v.status is not Status.PENDING]
        attestation = destroyed.get(spki)
        if any(not v.status.settled for v in waited):
            state = KeyGroupState.OPEN
        elif destruction_required and attestation is None:
            state = KeyGroupState.AWAITING_KEY_DESTRUCTION
        else:
            state = KeyGroupState.CLOSED
        groups.append(
            KeyGroupStatus(
                incident_id=incident_id,
                spki_sha256=spki,
                members=len(members),
                roots_listed=len(members) - len(waited),
                revoked=revoked,
                expired=expired,
                open=len(waited) - revoked - expired,
                late=sum(v.status in (Status.REVOKED_LATE, Status.OVERDUE) for v in waited),
                max_delay=max(delays, default=None),
                key_destruction_required=destruction_required,
                key_destroyed_at=utc_or_none(attestation["destroyed_at"]) if attestation else None,
                key_destruction_auditor=attestation["auditor"] if attestation else None,
                key_destruction_link=attestation["link"] if attestation else None,
                status=state,
            )
        )
    return groups
