"""Findings over the CRL archive (see `crl_archive`): what the versions of a partition show together
that no single CRL shows - backdated and changed revocations, serials removed early, CRLs served
after their nextUpdate, signatures not verified, partitions the CA did not disclose.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from ctwatch.crl import Severity
from ctwatch.evidence.revocation import CRLReason
from ctwatch.policy.windows import SUBORDINATE_CA_PUBLICATION
from ctwatch.warehouse.sqlfiles import load_sql, query_dicts

PUBLICATION_WINDOW = SUBORDINATE_CA_PUBLICATION  # a CRL may lag a revocation by this much (BR 4.9.7)


@dataclass(frozen=True, slots=True)
class ArchiveFinding:
    """A finding over the versions of a partition (or about one version)."""

    code: str
    severity: Severity
    detail: str
    partition_key: str
    at: datetime  # the moment it is about: a claimed date, a removal, a nextUpdate
    serial_hex: str | None = None
    crl_sha256: str | None = None  # the version that shows it


def archive_findings(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: datetime,
    disclosed_crl_urls: Collection[str] | None = None,
    publication_window: timedelta = PUBLICATION_WINDOW,
) -> list[ArchiveFinding]:
    """Findings over the archived versions: backdating, early removal, changed values, stale CRLs
    (observed up to `as_of`), unchecked or bad signatures, and - when the disclosed URL list (CCADB)
    is given - partitions that none of its URLs names.
    """
    findings = [
        *_backdated(con, publication_window),
        *_removed(con),
        *_changed(con),
        *_stale(con, as_of),
        *_signatures(con),
    ]
    if disclosed_crl_urls is not None:
        findings.extend(_undisclosed(con, set(disclosed_crl_urls), as_of))
    return findings


def _backdated(con: duckdb.DuckDBPyConnection, publication_window: timedelta) -> list[ArchiveFinding]:
    findings = []
    for row in query_dicts(con, "crl/find_backdated", {"publication_window": publication_window}):
        key_compromise = row["reason_code"] == CRLReason.KEY_COMPROMISE
        findings.append(
            ArchiveFinding(
                "crl_revocation_backdated_key_compromise" if key_compromise else "crl_revocation_backdated",
                Severity.NOTICE if key_compromise else Severity.ERROR,
                f"revocationDate {row['revoked_at_claimed'].isoformat()} is more than {publication_window} "
                f"before thisUpdate {row['absent_this_update'].isoformat()} of a version that did not list "
                f"it ({row['absent_crl_sha256']}); first listed by thisUpdate "
                f"{row['first_this_update'].isoformat()}",
                row["partition_key"],
                row["revoked_at_claimed"],
                row["serial_hex"],
                row["first_crl_sha256"],
            )
        )
    return findings


def _removed(con: duckdb.DuckDBPyConnection) -> list[ArchiveFinding]:
    findings = []
    for row in query_dicts(con, "crl/find_removed", {}):
        not_after = row["not_after"]
        removed_at = row["removed_this_update"]
        if not_after is not None and not_after <= removed_at:
            continue  # removal after expiry is allowed (RFC 5280 3.3)
        expiry = "notAfter unknown" if not_after is None else f"notAfter {not_after.isoformat()}"
        findings.append(
            ArchiveFinding(
                "crl_serial_removed_before_expiry" if not_after is not None else "crl_serial_removed",
                Severity.ERROR if not_after is not None else Severity.WARNING,
                f"listed until thisUpdate {row['last_this_update'].isoformat()}, absent from thisUpdate "
                f"{removed_at.isoformat()} ({expiry})",
                row["partition_key"],
                removed_at,
                row["serial_hex"],
                row["removed_crl_sha256"],
            )
        )
    return findings


def _changed(con: duckdb.DuckDBPyConnection) -> list[ArchiveFinding]:
    findings = []
    for row in query_dicts(con, "crl/find_changed", {}):
        changes = [
            f"{label} {_text(row['old_' + column])} -> {_text(row['new_' + column])}"
            for label, column in (
                ("revocationDate", "revoked_at"),
                ("reasonCode", "reason_code"),
                ("invalidityDate", "invalidity_date"),
            )
            if row["old_" + column] != row["new_" + column]
        ]
        findings.append(
            ArchiveFinding(
                "crl_revocation_changed",
                Severity.ERROR,
                "; ".join(changes),
                row["partition_key"],
                row["changed_this_update"],
                row["serial_hex"],
                row["changed_crl_sha256"],
            )
        )
    return findings


def _stale(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[ArchiveFinding]:
    return [
        ArchiveFinding(
            "crl_stale",
            Severity.ERROR,
            f"{row['url']} still served it at {row['observed_at'].isoformat()}, after its nextUpdate",
            row["partition_key"],
            row["next_update"],
            crl_sha256=row["crl_sha256"],
        )
        for row in query_dicts(con, "crl/find_stale", {"as_of": as_of})
    ]


def _signatures(con: duckdb.DuckDBPyConnection) -> list[ArchiveFinding]:
    findings = []
    for row in query_dicts(con, "crl/find_signature", {}):
        invalid = row["signature_status"] == "invalid"
        findings.append(
            ArchiveFinding(
                "crl_signature_invalid" if invalid else "crl_signature_unverified",
                Severity.ERROR if invalid else Severity.WARNING,
                row["signature_detail"] or f"signature {row['signature_status']}",
                row["partition_key"],
                row["this_update"],
                crl_sha256=row["crl_sha256"],
            )
        )
    return findings


def _undisclosed(
    con: duckdb.DuckDBPyConnection, disclosed: set[str], as_of: datetime
) -> list[ArchiveFinding]:
    findings = []
    for row in query_dicts(con, "crl/partition_urls", {}):
        if disclosed.intersection(row["urls"]):
            continue
        first = con.execute(
            load_sql("crl/partition_first_this_update"), {"key": row["partition_key"]}
        ).fetchone()
        findings.append(
            ArchiveFinding(
                "crl_partition_undisclosed",
                Severity.ERROR,
                f"no disclosed CRL URL names this partition (its URLs: {', '.join(row['urls'])})",
                row["partition_key"],
                first[0] if first else as_of,
            )
        )
    return findings


def _text(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
