"""Write an assessment as of its as-of (replacing that as-of's rows) and raise its alert events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from ctwatch import alerts
from ctwatch.alerts import OVERDUE_DIGEST_PERIOD, AlertEvent, AlertFacts, OverdueCertificate, Transition
from ctwatch.evaluate.config import EvaluationConfig, KeyDestruction
from ctwatch.evaluate.model import Assessment, Incident, Verdict
from ctwatch.evaluate.plan_progress import PlanProgress
from ctwatch.evaluate.plan_store import save_plans
from ctwatch.evaluate.verdict import Status
from ctwatch.revocation.disagreements import DISAGREEMENT_WORDS
from ctwatch.timeutil import require_aware
from ctwatch.warehouse import load_sql, transaction

DEADLINE_WARNING = timedelta(hours=24)


def _seconds(delay: timedelta | None) -> int | None:
    return None if delay is None else int(delay.total_seconds())


def record_key_destruction(con: duckdb.DuckDBPyConnection, attestation: KeyDestruction) -> None:
    """Record an attested key destruction (recording the same key, date and auditor again is a no-op).
    It counts for evaluations as of its `recorded_at` and later."""
    con.execute(
        load_sql("evaluate/record_key_destruction"),
        {
            "spki_sha256": attestation.spki_sha256,
            "destroyed_at": attestation.destroyed_at,
            "auditor": attestation.auditor,
            "link": attestation.link,
            "recorded_at": attestation.recorded_at,
        },
    )


def record_problem_report(
    con: duckdb.DuckDBPyConnection,
    *,
    report_id: str,
    ca_owner: str,
    sent_at: datetime,
    recipient: str,
    recorded_at: datetime,
    rule_id: str | None = None,
    der_sha256: str | None = None,
    link: str | None = None,
) -> None:
    """Record a certificate problem report ctwatch staff sent: it can start an incident's clock at
    `sent_at`, for evaluations as of `recorded_at` (when ctwatch learnt of it) and later."""
    require_aware(sent_at, "sent_at")
    require_aware(recorded_at, "recorded_at")
    con.execute(
        load_sql("evaluate/record_problem_report"),
        {
            "report_id": report_id,
            "ca_owner": ca_owner,
            "rule_id": rule_id,
            "der_sha256": der_sha256,
            "sent_at": sent_at,
            "recipient": recipient,
            "link": link,
            "recorded_at": recorded_at,
        },
    )


def save(
    con: duckdb.DuckDBPyConnection,
    assessment: Assessment,
    events: list[AlertEvent],
    plans: Sequence[PlanProgress] = (),
) -> int:
    """Replace the rows of the assessment's as-of (with its plans' progress) and enqueue its events,
    in one transaction.

    Returns how many events were new to the outbox.
    """
    as_of = assessment.as_of
    with transaction(con):
        for name in ("delete_incidents", "delete_verdicts", "delete_key_groups"):
            con.execute(load_sql(f"evaluate/{name}"), {"as_of": as_of})
        if assessment.incidents:
            con.executemany(
                load_sql("evaluate/insert_incident"), [_incident_row(as_of, i) for i in assessment.incidents]
            )
        if assessment.verdicts:
            con.executemany(
                load_sql("evaluate/insert_verdict"), [_verdict_row(as_of, v) for v in assessment.verdicts]
            )
        if assessment.key_groups:
            con.executemany(
                load_sql("evaluate/insert_key_group"),
                [
                    {
                        "as_of": as_of,
                        "incident_id": g.incident_id,
                        "spki_sha256": g.spki_sha256,
                        "members": g.members,
                        "roots_listed": g.roots_listed,
                        "revoked": g.revoked,
                        "expired": g.expired,
                        "open": g.open,
                        "late": g.late,
                        "max_delay_s": _seconds(g.max_delay),
                        "key_destruction_required": g.key_destruction_required,
                        "key_destroyed_at": g.key_destroyed_at,
                        "key_destruction_auditor": g.key_destruction_auditor,
                        "key_destruction_link": g.key_destruction_link,
                        "status": g.status,
                        "earliest_deadline": g.earliest_deadline,
                        "closed_at": g.closed_at,
                        "closure_delay_s": _seconds(g.closure_delay),
                    }
                    for g in assessment.key_groups
                ],
            )
        save_plans(con, as_of, plans)
        con.execute(
            load_sql("evaluate/insert_run"),
            {
                "as_of": as_of,
                "config_sha256": assessment.config_sha256,
                "incidents": len(assessment.incidents),
                "verdicts": len(assessment.verdicts),
                "out_of_scope": len(assessment.out_of_scope),
            },
        )
        return alerts.enqueue(con, events)


def _incident_row(as_of: datetime, i: Incident) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "incident_id": i.incident_id,
        "rule_id": i.rule_id,
        "rule_citation": i.rule_citation,
        "declared_id": i.declared_id,
        "ca_owner": i.ca_owner,
        "subordinate_ca_owners": list(i.subordinate_ca_owners),
        "root_stores": list(i.root_stores),
        "scope_basis": i.scope_basis,
        "clock_start": i.clock_start,
        "clock_source": i.clock_source,
        "clock_source_detail": i.clock_source_detail,
        "first_detected_as_of": i.first_detected_as_of,
        "window_kind": i.window_kind,
        "window_s": _seconds(i.window),
        "deadline": i.deadline,
        "publication_allowance_s": _seconds(i.publication_allowance),
        "window_citation": i.window_citation,
        "key_destruction_required": i.key_destruction_required,
        "certificates": i.certificates,
        "key_groups": i.key_groups,
        "status": i.status,
    }


def _verdict_row(as_of: datetime, v: Verdict) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "incident_id": v.incident_id,
        "der_sha256": v.der_sha256,
        "precert_der_sha256": v.precert_der_sha256,
        "spki_sha256": v.spki_sha256,
        "has_finding": v.has_finding,
        "kind": v.kind,
        "ca_owner": v.ca_owner,
        "subordinate_ca_owner": v.subordinate_ca_owner,
        "subject": v.subject,
        "issuer": v.issuer,
        "serial_hex": v.serial_hex,
        "not_before": v.not_before,
        "not_after": v.not_after,
        "dns_names": None if v.dns_names is None else list(v.dns_names),
        "first_ct_at": v.first_ct_at,
        "first_ct_basis": v.first_ct_basis,
        "deadline": v.deadline,
        "deadline_basis": v.deadline_basis,
        "planned_revocation_at": v.planned_revocation_at,
        "status": str(v.status),
        "delay_s": _seconds(v.delay),
        "basis": str(v.basis),
        "revoked_at_claimed": v.revoked_at_claimed,
        "revocation_reason": v.revocation_reason,
        "first_observed_revoked_at": v.first_observed_revoked_at,
        "bounds": list(v.bounds),
        "arithmetic": list(v.arithmetic),
        "evidence": list(v.evidence),
        "publish_by": v.publish_by,
        "delay_max_s": _seconds(v.delay_max),
        "basis_text": v.basis_text,
        "last_observed_absent_at": v.last_observed_absent_at,
        "findings": list(v.findings),
        "root_program_actions": list(v.root_program_actions),
    }


def alert_events(
    assessment: Assessment, now: datetime, *, overdue_digest_period: timedelta = OVERDUE_DIGEST_PERIOD
) -> list[AlertEvent]:
    """One event per state the assessment shows; the outbox key keeps each transition to one alert.

    Overdue certificates make one still_overdue digest per incident: one per `overdue_digest_period`
    when the evaluation is live, one per evaluation when it replays the past.
    """
    historical = alerts.is_historical(assessment.as_of, now.astimezone(UTC))
    return list(_events(assessment, historical, None if historical else overdue_digest_period))


def _events(
    assessment: Assessment, historical: bool, digest_period: timedelta | None
) -> Iterator[AlertEvent]:
    as_of = assessment.as_of
    incidents = {i.incident_id: i for i in assessment.incidents}

    def event(
        incident: Incident,
        transition: Transition,
        verdict: Verdict | None = None,
        evidence: str | None = None,
        **extra: Any,
    ) -> AlertEvent:
        facts = AlertFacts(
            ca_owner=incident.ca_owner,
            subordinate_ca_owner=(verdict.subordinate_ca_owner if verdict else None)
            or (", ".join(incident.subordinate_ca_owners) or None),
            rule_id=incident.rule_id,
            subject=verdict.subject if verdict else None,
            issuer=verdict.issuer if verdict else None,
            serial_hex=verdict.serial_hex if verdict else None,
            deadline=verdict.deadline if verdict else incident.deadline,
            delay=verdict.delay if verdict else None,
            clock_started_at=incident.clock_start,
            clock_source=incident.clock_source_detail,
            evidence=evidence or (verdict.arithmetic[-1] if verdict and verdict.arithmetic else None),
        )
        return AlertEvent(
            incident_id=incident.incident_id,
            der_sha256=verdict.der_sha256 if verdict else None,
            transition=transition,
            occurred_at=as_of,
            historical=historical,
            facts=facts,
            **extra,
        )

    for incident in assessment.incidents:
        yield event(incident, Transition.NEW_INCIDENT)
        if incident.clock_start is None:
            yield event(incident, Transition.CLOCK_NOT_STARTED)
    overdue: dict[str, list[OverdueCertificate]] = {}
    for verdict in assessment.verdicts:
        incident = incidents[verdict.incident_id]
        due = verdict.deadline
        if verdict.status is Status.PENDING and due is not None and due - as_of <= DEADLINE_WARNING:
            yield event(incident, Transition.DEADLINE_IN_24H, verdict)
        elif verdict.status is Status.OVERDUE and due is not None and verdict.delay is not None:
            yield event(incident, Transition.DEADLINE_BREACHED, verdict)
            overdue.setdefault(incident.incident_id, []).append(
                OverdueCertificate(
                    der_sha256=verdict.der_sha256,
                    subject=verdict.subject,
                    serial_hex=verdict.serial_hex,
                    deadline=due,
                    delay=verdict.delay,
                )
            )
        elif verdict.status is Status.REVOKED_LATE:
            yield event(incident, Transition.REVOKED_LATE, verdict)
    for incident_id, certificates in overdue.items():
        digest = alerts.overdue_digest_of(certificates, as_of, digest_period)
        if digest is not None:
            yield event(incidents[incident_id], Transition.STILL_OVERDUE, overdue_digest=digest)
    kinds: dict[str, set[str]] = {}
    for disagreement in assessment.disagreements:
        kinds.setdefault(disagreement.der_sha256, set()).add(disagreement.kind)
    for verdict in assessment.verdicts:
        for kind in sorted(kinds.get(verdict.der_sha256, ())):
            yield event(
                incidents[verdict.incident_id], Transition.SOURCES_DISAGREE, verdict, disagreement=kind,
                evidence=DISAGREEMENT_WORDS.get(kind, kind),
            )  # fmt: skip


def load_key_destructions(con: duckdb.DuckDBPyConnection, config: EvaluationConfig) -> None:
    """Copy the configuration's attestations into the warehouse (idempotent)."""
    for attestation in config.key_destructions:
        record_key_destruction(con, attestation)
