"""The read API over stored evaluations, for reports: everything in UTC, one as-of at a time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from ctwatch.evaluate.model import Incident, IncidentStatus, KeyGroupState, KeyGroupStatus, Verdict
from ctwatch.evaluate.verdict import Basis, Status
from ctwatch.timeutil import utc_or_none
from ctwatch.warehouse import load_sql, query_dicts


def _rows(con: duckdb.DuckDBPyConnection, name: str, as_of: datetime) -> list[dict[str, Any]]:
    return query_dicts(con, f"evaluate/{name}", {"as_of": as_of})


def _delay(seconds: int | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def latest_evaluation(con: duckdb.DuckDBPyConnection, as_of: datetime) -> datetime | None:
    """The latest evaluated as-of at or before `as_of` (what a report as of that time shows)."""
    row = con.execute(load_sql("evaluate/latest_run"), {"as_of": as_of}).fetchone()
    return utc_or_none(row[0]) if row else None


def incidents(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[Incident]:
    """The incidents stored by the evaluation of exactly `as_of` (see `latest_evaluation`)."""
    return [
        Incident(
            incident_id=r["incident_id"],
            rule_id=r["rule_id"],
            rule_citation=r["rule_citation"],
            declared_id=r["declared_id"],
            ca_owner=r["ca_owner"],
            subordinate_ca_owners=tuple(r["subordinate_ca_owners"]),
            root_stores=tuple(r["root_stores"]),
            scope_basis=r["scope_basis"],
            clock_start=utc_or_none(r["clock_start"]),
            clock_source=r["clock_source"],
            clock_source_detail=r["clock_source_detail"],
            first_detected_as_of=utc_or_none(r["first_detected_as_of"]),
            window_kind=r["window_kind"],
            window=_delay(r["window_s"]),
            deadline=utc_or_none(r["deadline"]),
            publication_allowance=_delay(r["publication_allowance_s"]),
            window_citation=r["window_citation"],
            key_destruction_required=r["key_destruction_required"],
            certificates=r["certificates"],
            key_groups=r["key_groups"],
            status=IncidentStatus(r["status"]),
        )
        for r in _rows(con, "select_incidents", as_of)
    ]


def verdicts(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[Verdict]:
    """Every stored verdict of the evaluation of exactly `as_of`, by incident and certificate."""
    return [
        Verdict(
            incident_id=r["incident_id"],
            der_sha256=r["der_sha256"],
            precert_der_sha256=r["precert_der_sha256"],
            spki_sha256=r["spki_sha256"],
            has_finding=r["has_finding"],
            kind=r["kind"],
            ca_owner=r["ca_owner"],
            subordinate_ca_owner=r["subordinate_ca_owner"],
            subject=r["subject"],
            issuer=r["issuer"],
            serial_hex=r["serial_hex"],
            not_before=utc_or_none(r["not_before"]),
            not_after=utc_or_none(r["not_after"]),
            dns_names=None if r["dns_names"] is None else tuple(r["dns_names"]),
            first_ct_at=utc_or_none(r["first_ct_at"]),
            first_ct_basis=r["first_ct_basis"],
            deadline=utc_or_none(r["deadline"]),
            deadline_basis=r["deadline_basis"],
            planned_revocation_at=utc_or_none(r["planned_revocation_at"]),
            publish_by=utc_or_none(r["publish_by"]),
            status=Status(r["status"]),
            delay=_delay(r["delay_s"]),
            delay_max=_delay(r["delay_max_s"]),
            basis=Basis(r["basis"]),
            basis_text=r["basis_text"],
            revoked_at_claimed=utc_or_none(r["revoked_at_claimed"]),
            revocation_reason=r["revocation_reason"],
            first_observed_revoked_at=utc_or_none(r["first_observed_revoked_at"]),
            last_observed_absent_at=utc_or_none(r["last_observed_absent_at"]),
            bounds=tuple(r["bounds"]),
            arithmetic=tuple(r["arithmetic"]),
            evidence=tuple(r["evidence"]),
            findings=tuple(r["findings"]),
            root_program_actions=tuple(r["root_program_actions"]),
        )
        for r in _rows(con, "select_verdicts", as_of)
    ]


def key_group_status(
    con: duckdb.DuckDBPyConnection, as_of: datetime, incident_id: str | None = None
) -> list[KeyGroupStatus]:
    """Key groups of the evaluation of exactly `as_of` (of one incident when given)."""
    return [
        KeyGroupStatus(
            incident_id=r["incident_id"],
            spki_sha256=r["spki_sha256"],
            members=r["members"],
            roots_listed=r["roots_listed"],
            revoked=r["revoked"],
            expired=r["expired"],
            open=r["open"],
            late=r["late"],
            max_delay=_delay(r["max_delay_s"]),
            key_destruction_required=r["key_destruction_required"],
            key_destroyed_at=utc_or_none(r["key_destroyed_at"]),
            key_destruction_auditor=r["key_destruction_auditor"],
            key_destruction_link=r["key_destruction_link"],
            status=KeyGroupState(r["status"]),
            earliest_deadline=utc_or_none(r["earliest_deadline"]),
            closed_at=utc_or_none(r["closed_at"]),
            closure_delay=_delay(r["closure_delay_s"]),
        )
        for r in _rows(con, "select_key_groups", as_of)
        if incident_id is None or r["incident_id"] == incident_id
    ]
