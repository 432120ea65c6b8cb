"""CCADB's AllCertificateRecords report: one record per CA certificate, and a parsed snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ctwatch.evidence.revocation import Snapshot


@dataclass(frozen=True, slots=True)
class CcadbRecord:
    """One AllCertificateRecords row: the fields later verdicts need (trust scope, owner, parent)."""

    der_sha256: str
    salesforce_record_id: str | None
    certificate_name: str | None
    ca_owner: str | None
    subordinate_ca_owner: str | None
    parent_der_sha256: str | None
    parent_salesforce_record_id: str | None
    record_type: str | None
    revocation_status: str | None
    apple_status: str | None
    chrome_status: str | None
    microsoft_status: str | None
    mozilla_status: str | None
    root_status: str | None
    trust_bits_for_root: str | None
    derived_trust_bits: str | None
    technically_constrained: bool | None
    valid_from: date | None
    valid_to: date | None
    full_crl_urls: tuple[str, ...]
    partitioned_crl_urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CcadbReport:
    """A parsed AllCertificateRecords snapshot: sightings of revocation status plus the full records."""

    snapshot: Snapshot
    records: tuple[CcadbRecord, ...]
