"""Warehouse states built through the data APIs: certificates, findings, CCADB records, observations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ctwatch import warehouse
from ctwatch.evaluate.config import EvaluationConfig, parse_config
from ctwatch.revocation.model import Snapshot, SourceName, StampKind
from ctwatch.sources.ccadb import CcadbRecord
from ctwatch.warehouse import observations
from ctwatch.x509.model import CertKind
from tests.rules.factory import make_cert

RULE = "e_ca_ocsp_signing_eku_without_nocheck"
ROOT_SHA = "00" * 32
ROOT_SUBJECT = b"root-subject"
CONFIG = b"""
[polling_interval_hours]
crl = 4
[[incidents]]
id = "ocsp-eku-2020"
rule = "e_ca_ocsp_signing_eku_without_nocheck"
clock_start = 2020-07-01
clock_source = "public disclosure (m.d.s.p, Ryan Sleevi)"
window_kind = "subordinate_ca"
reason = "not_issued_per_requirements"
trust_scope = "root_store"
"""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


ISSUED = utc(2019, 7, 11)
EXPIRES = utc(2029, 5, 29)
CCADB_DAY = utc(2020, 6, 30)


@dataclass(frozen=True)
class _Finding:
    der_sha256: str
    rule_id: str
    severity: str = "error"
    detail: str = "id-kp-OCSPSigning without id-pkix-ocsp-nocheck"


@pytest.fixture
def config() -> EvaluationConfig:
    return parse_config(CONFIG)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = warehouse.connect(tmp_path / "w.duckdb")
    add_cert(connection, ROOT_SHA, spki="f0" * 32, kind=CertKind.ROOT, subject=ROOT_SUBJECT, finding=False)
    yield connection
    connection.close()


def add_cert(
    con: duckdb.DuckDBPyConnection,
    der_sha256: str,
    *,
    spki: str,
    not_before: datetime = ISSUED,
    not_after: datetime = EXPIRES,
    kind: CertKind = CertKind.SUB_CA,
    subject: bytes | None = None,
    finding: bool = True,
    rule_id: str = RULE,
    serial_hex: str = "01",
) -> None:
    cert = make_cert(
        ocsp_signing=True,
        der_sha256=der_sha256,
        spki_sha256=spki,
        not_before=not_before,
        not_after=not_after,
        kind=kind,
        subject_der=subject or der_sha256.encode(),
        issuer_der=ROOT_SUBJECT,
        subject_rfc4514=f"CN=Test {der_sha256[:6]}",
        serial_hex=serial_hex,
    )
    warehouse.store_certificates(con, [cert], source="file:test")
    if finding:
        warehouse.store_findings(con, [_Finding(der_sha256, rule_id)], as_of=utc(2026, 1, 1))


def ccadb(
    con: duckdb.DuckDBPyConnection,
    members: dict[str, str | None],
    *,
    observed_at: datetime = CCADB_DAY,
) -> None:
    """A CCADB snapshot: the test root (included in Mozilla and Chrome) and intermediates under it,
    `members` mapping each intermediate to its Subordinate CA Owner."""

    def record(sha: str, record_type: str, sub_owner: str | None, parent: str | None) -> CcadbRecord:
        is_root = parent is None
        return CcadbRecord(
            der_sha256=sha, salesforce_record_id=None, certificate_name=None, ca_owner="SECOM Trust Systems",
            subordinate_ca_owner=sub_owner, parent_der_sha256=parent, parent_salesforce_record_id=None,
            record_type=record_type, revocation_status="" if is_root else "Not Revoked",
            apple_status="Not Included", chrome_status="Included" if is_root else "Not Included",
            microsoft_status="Not Included", mozilla_status="Included" if is_root else "Provided by CA",
            root_status="", trust_bits_for_root=None, derived_trust_bits=None, technically_constrained=False,
            valid_from=None, valid_to=None, full_crl_urls=(), partitioned_crl_urls=(),
        )  # fmt: skip

    records = [record(ROOT_SHA, "Root Certificate", None, None)]
    records += [record(sha, "Intermediate Certificate", sub, ROOT_SHA) for sha, sub in members.items()]
    snapshot = Snapshot(
        source=SourceName.CCADB, observer="ccadb", observed_at=observed_at, stamp_kind=StampKind.ARCHIVE,
        location="test", content_sha256=observed_at.isoformat(), lists_all_revoked=False, sightings=(),
    )  # fmt: skip
    observations.store_snapshot(con, snapshot, ccadb_records=records)


def observe(
    con: duckdb.DuckDBPyConnection,
    der_sha256: str,
    *,
    first: datetime,
    claimed: datetime | None,
    absent: datetime | None = None,
    source: str = "crl",
    observer: str = "ctwatch",
) -> None:
    """A revocation_observations row as the CRL archive or a source refresh writes it."""
    con.execute(
        "INSERT INTO revocation_observations (der_sha256, source, observer, revoked_at_claimed, reason, "
        "first_observed_at, last_observed_at, last_observed_absent_at, evidence_sha256, evidence_ref) "
        "VALUES (?, ?, ?, ?, 'superseded', ?, ?, ?, 'beef', 'http://crl.example/root.crl')",
        [der_sha256, source, observer, claimed, first, first, absent],
    )
