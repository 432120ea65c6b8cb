"""Sources that disagree about one certificate become a finding with both sides' evidence.

Kinds: `crl_revoked_ccadb_not_revoked` (a CRL lists it, a later CCADB snapshot still says
"Not Revoked"), `ocsp_good_crl_revoked` (an OCSP answer says good after a CRL listed it),
`onecrl_without_ca_revocation` / `crlset_without_ca_revocation` (a root program blocks it, no CA
channel — CRL, OCSP, crt.sh's CRL view — says revoked), `report_revoked_ca_channel_not` (CCADB or
Mozilla's report says revoked, and ctwatch saw the CA's covering CRL or OCSP without the entry after
the claimed time plus the publication allowance, while the certificate was valid: see
ctwatch.revocation.settlement; it resolves once the channel lists it). Evaluated as of a time from
what was observed by then; the same `as_of` twice changes nothing; a disagreement no longer found is
resolved, never deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import duckdb

from ctwatch.revocation.settlement import contradiction, load_evidence, publication_allowance
from ctwatch.timeutil import require_aware
from ctwatch.warehouse._db import row_count, transaction
from ctwatch.warehouse.connection import connect
from ctwatch.warehouse.sqlfiles import load_sql, query_dicts

REPORT_CONTRADICTED = "report_revoked_ca_channel_not"
# What each kind means, for alerts and reports.
DISAGREEMENT_WORDS: Final = {
    "crl_revoked_ccadb_not_revoked": "the CA's CRL lists it, a later CCADB snapshot says Not Revoked",
    "ocsp_good_crl_revoked": "an OCSP answer says good after the CA's CRL listed it",
    "onecrl_without_ca_revocation": "OneCRL blocks it, no CRL or OCSP answer of the CA says revoked",
    "crlset_without_ca_revocation": "Chrome's CRLSet blocks it, no CRL or OCSP answer of the CA says revoked",
    REPORT_CONTRADICTED: (
        "a report (CCADB or Mozilla's revoked intermediates) says revoked, but the CA's CRL or OCSP "
        "observed later does not list it"
    ),
}


@dataclass(frozen=True, slots=True)
class Disagreement:
    kind: str
    der_sha256: str
    revoked_side: dict[str, Any]  # the source saying revoked, with its evidence
    other_side: dict[str, Any]  # the source saying otherwise (or the silent CA channels)


@dataclass(frozen=True, slots=True)
class DisagreementsStored:
    found: int
    opened: int
    resolved: int


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def find_disagreements(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[Disagreement]:
    """Every disagreement visible from observations made by `as_of`, one per (kind, certificate),
    keeping the earliest revoked-side observation when several sources say revoked."""
    require_aware(as_of, "as_of")
    cursor = con.execute(load_sql("sources/disagreements"), {"as_of": as_of})
    names = [d[0] for d in cursor.description]
    found: dict[tuple[str, str], Disagreement] = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        revoked = {
            "source": row["revoked_source"],
            "observer": row["revoked_observer"],
            "revoked_at_claimed": _iso(row["revoked_at_claimed"]),
            "reason": row["reason"],
            "first_observed_at": _iso(row["first_observed_at"]),
            "evidence_sha256": row["evidence_sha256"],
            "evidence_ref": row["evidence_ref"],
        }
        other = {
            "source": row["other_source"],
            "status": row["other_status"],
            "observed_at": _iso(row["other_observed_at"]),
            "evidence_sha256": row["other_evidence_sha256"],
            "evidence_ref": row["other_evidence_ref"],
            "record_ref": row["other_record_ref"],
        }
        key = (row["kind"], row["der_sha256"])
        kept = found.get(key)
        if kept is None or str(revoked["first_observed_at"]) < str(kept.revoked_side["first_observed_at"]):
            found[key] = Disagreement(row["kind"], row["der_sha256"], revoked, other)
    for disagreement in _contradicted_reports(con, as_of):
        found[(disagreement.kind, disagreement.der_sha256)] = disagreement
    return [found[key] for key in sorted(found)]


def _contradicted_reports(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[Disagreement]:
    """Reports saying revoked that the CA's own covering channel, observed later, does not confirm."""
    claimed = {
        row["der_sha256"]: bool(row["is_ca"])
        for row in query_dicts(con, "sources/reported_revoked", {"as_of": as_of})
    }
    found = []
    for der_sha256, evidence in load_evidence(con, claimed, as_of).items():
        if evidence.listings:
            continue  # the CA's channel lists it: the report is confirmed, not contradicted
        allowance = publication_allowance(claimed[der_sha256])
        for claim in evidence.claims:
            absence = contradiction(claim, evidence.last_absence, allowance)
            if absence is None:
                continue
            revoked = {
                "source": claim.source,
                "observer": claim.source,
                "revoked_at_claimed": _iso(claim.revoked_at_claimed),
                "first_observed_at": _iso(claim.first_observed_at),
                "evidence_ref": claim.evidence,
                "publication_allowance_s": int(allowance.total_seconds()),
            }
            found.append(Disagreement(REPORT_CONTRADICTED, der_sha256, revoked, absence.as_json()))
            break
    return found


def store_disagreements(con: duckdb.DuckDBPyConnection, as_of: datetime) -> DisagreementsStored:
    """Evaluate as of `as_of` and record the result (open, keep current, resolve), all or nothing."""
    found = find_disagreements(con, as_of)
    batch = {
        "kind": [d.kind for d in found],
        "der_sha256": [d.der_sha256 for d in found],
        "revoked_side": [json.dumps(d.revoked_side, sort_keys=True) for d in found],
        "other_side": [json.dumps(d.other_side, sort_keys=True) for d in found],
        "as_of": as_of,
    }
    with transaction(con):
        before = _open_count(con)
        con.execute(load_sql("sources/disagreements_upsert"), batch)
        opened = _open_count(con) - before
        resolved = row_count(
            con.execute(
                load_sql("sources/disagreements_close"),
                {"kind": batch["kind"], "der_sha256": batch["der_sha256"], "as_of": as_of},
            )
        )
    return DisagreementsStored(found=len(found), opened=opened, resolved=resolved)


def _open_count(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(load_sql("sources/count_disagreements")).fetchone()
    return int(row[0]) if row else 0


def evaluate_disagreements(warehouse_file: Path, as_of: datetime) -> DisagreementsStored:
    """The unit of work: `store_disagreements` as of `as_of` on the warehouse file."""
    con = connect(warehouse_file)
    try:
        return store_disagreements(con, as_of)
    finally:
        con.close()
