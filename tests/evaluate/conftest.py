"""A small world for verdict tests, built through the real storage paths: a root CA whose signed CRLs
go through the CRL archive, sub-CA certificates with findings, CCADB records, OCSP answers,
reports (CCADB, Mozilla) and root-program blocks (OneCRL, CRLSet) as stored snapshots."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ctwatch import warehouse
from ctwatch.evaluate.config import EvaluationConfig, parse_config
from ctwatch.evidence.ccadb import CcadbRecord
from ctwatch.evidence.revocation import Sighting, SightingStatus, Snapshot, SourceName, StampKind
from ctwatch.warehouse import observations
from ctwatch.warehouse.crl_archive import archive_fetch, refresh_revocation_observations
from ctwatch.x509 import ParsedCert, analyse_der
from ctwatch.x509.model import CertKind
from tests.crl.factory import Ca, Revoked, make_ca, make_crl, staged_fetch
from tests.rules.factory import make_cert

RULE = "e_ca_ocsp_signing_eku_without_nocheck"
CRL_URL = "http://crl.secom.test/root.crl"
OCSP_URL = "http://ocsp.secom.test/"
OWNER = "SECOM Trust Systems"
# The declared incident every verdict test uses unless it says otherwise: the disclosure at
# 2020-07-01T17:30Z, 7 days (BR 4.9.1.2) -> deadline 2020-07-08T17:30Z, publish-by +24 h (BR 4.9.7)
# -> 2020-07-09T17:30Z.
CONFIG = b"""
[[incidents]]
id = "ocsp-eku-2020"
rule = "e_ca_ocsp_signing_eku_without_nocheck"
clock_start = 2020-07-01T17:30:00Z
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
FOUND = utc(2026, 1, 1)  # when ctwatch's rules found the tests' findings: long after their as-ofs


@dataclass(frozen=True)
class _Finding:
    der_sha256: str
    rule_id: str
    severity: str = "error"
    detail: str = "id-kp-OCSPSigning without id-pkix-ocsp-nocheck"


@pytest.fixture
def config() -> EvaluationConfig:
    return parse_config(CONFIG)


@dataclass
class World:
    """The warehouse of one test and the root CA that signs its CRLs."""

    con: duckdb.DuckDBPyConnection
    tmp: Path
    root: Ca
    root_cert: ParsedCert
    _crl_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _snapshots: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls, con: duckdb.DuckDBPyConnection, tmp: Path, root: Ca) -> World:
        """A world in `con` whose root `root` is stored (CRL files are staged under `tmp`)."""
        parsed = analyse_der(root.cert.public_bytes(Encoding.DER))
        assert isinstance(parsed, ParsedCert)
        warehouse.store_certificates(con, [parsed], source="file:test")
        return cls(con, tmp, root, parsed)

    @property
    def root_sha(self) -> str:
        return self.root_cert.der_sha256

    def add_cert(
        self,
        der_sha256: str,
        *,
        spki: str,
        serial: int,
        subject_rfc4514: str | None = None,
        not_before: datetime = ISSUED,
        not_after: datetime = EXPIRES,
        kind: CertKind = CertKind.SUB_CA,
        finding: bool = True,
        rule_id: str = RULE,
        found_as_of: datetime = FOUND,
        subject: bytes | None = None,
        issuer: ParsedCert | None = None,
    ) -> None:
        """A certificate issued by the root (or `issuer`), naming the root's CRL; with `finding`, the
        rule `rule_id` found on it by an evaluation as of `found_as_of` (by default long after)."""
        issuer = issuer or self.root_cert
        cert = make_cert(
            ocsp_signing=True,
            der_sha256=der_sha256,
            spki_sha256=spki,
            not_before=not_before,
            not_after=not_after,
            kind=kind,
            is_ca=kind is not CertKind.TLS_LEAF,
            subject_der=subject or der_sha256.encode(),
            issuer_der=issuer.subject_der,
            issuer_rfc4514=issuer.subject_rfc4514,
            subject_rfc4514=subject_rfc4514 or f"CN=Test {der_sha256[:6]}",
            serial_hex=format(serial, "x"),
            crl_urls=(CRL_URL,),
            ocsp_urls=(OCSP_URL,),
        )
        warehouse.store_certificates(self.con, [cert], source="file:test")
        if finding:
            warehouse.store_findings(self.con, [_Finding(der_sha256, rule_id)], as_of=found_as_of)

    def crl(
        self, fetched_at: datetime, revoked: Sequence[Revoked] = (), *, this_update: datetime | None = None
    ) -> None:
        """A new version of the root's CRL (thisUpdate: `this_update`, default the fetch time)
        listing `revoked`, fetched by ctwatch at `fetched_at` and archived."""
        der = make_crl(self.root, this_update or fetched_at, revoked, crl_number=next(self._crl_numbers))
        self.fetch(der, fetched_at)

    def fetch(self, der: bytes, fetched_at: datetime) -> None:
        """ctwatch fetching these CRL bytes at `fetched_at` (a version seen before is observed again)."""
        outcome = archive_fetch(
            self.con, staged_fetch(self.tmp, der, fetched_at, url=CRL_URL), issuer=self.root_cert
        )
        assert outcome.error is None, outcome.error
        refresh_revocation_observations(self.con)

    def ocsp(
        self,
        der_sha256: str,
        at: datetime,
        status: SightingStatus,
        *,
        claimed: datetime | None = None,
        reason: str | None = None,
    ) -> None:
        """ctwatch's OCSP answer (signature checked) about a certificate at `at`."""
        self._store(
            SourceName.OCSP, "ctwatch", at, OCSP_URL, False,
            Sighting(status=status, der_sha256=der_sha256, revoked_at_claimed=claimed, reason=reason),
        )  # fmt: skip

    def report(self, der_sha256: str, at: datetime, *, source: SourceName, claimed: datetime | None) -> None:
        """A report first saying `der_sha256` is revoked at `at`: Mozilla's revoked-intermediates
        report (dated `claimed`) or CCADB's revocation status (no date)."""
        observer = "ccadb" if source is SourceName.CCADB else "mozilla"
        sighting = Sighting(status=SightingStatus.REVOKED, der_sha256=der_sha256, revoked_at_claimed=claimed)
        self._store(source, observer, at, f"https://ccadb.test/{source}", False, sighting)

    def block(self, der_sha256: str, at: datetime, *, source: SourceName) -> None:
        """A root-program block (OneCRL, CRLSet) of the certificate from `at`."""
        sighting = Sighting(status=SightingStatus.REVOKED, der_sha256=der_sha256, source_action_at=at)
        self._store(source, str(source), at, f"https://browser.test/{source}", True, sighting)

    def _store(  # noqa: PLR0917 - test helper, every argument a snapshot field
        self, source: SourceName, observer: str, at: datetime, location: str, full: bool, sighting: Sighting
    ) -> None:
        snapshot = Snapshot(
            source=source, observer=observer, observed_at=at, stamp_kind=StampKind.AS_OF,
            location=location, content_sha256=f"{next(self._snapshots):064x}", lists_all_revoked=full,
            sightings=(sighting,),
        )  # fmt: skip
        observations.store_snapshot(self.con, snapshot)
        observations.refresh_observations(self.con, str(source))

    def ccadb(self, members: dict[str, str | None], *, observed_at: datetime = CCADB_DAY) -> None:
        """A CCADB snapshot of the root and `members` (see `ccadb_snapshot`)."""
        ccadb_snapshot(self.con, self.root_sha, members, observed_at=observed_at)


def ccadb_snapshot(
    con: duckdb.DuckDBPyConnection,
    root_sha: str,
    members: dict[str, str | None],
    *,
    observed_at: datetime = CCADB_DAY,
) -> None:
    """A CCADB snapshot: the root (included in Mozilla and Chrome, CA owner OWNER) and intermediates
    under it, `members` mapping each intermediate to its Subordinate CA Owner."""
    records = [ccadb_record(root_sha, "Root Certificate", None, None)]
    records += [ccadb_record(sha, "Intermediate Certificate", sub, root_sha) for sha, sub in members.items()]
    snapshot = Snapshot(
        source=SourceName.CCADB, observer="ccadb", observed_at=observed_at,
        stamp_kind=StampKind.ARCHIVE, location="test", content_sha256=observed_at.isoformat(),
        lists_all_revoked=False, sightings=(),
    )  # fmt: skip
    observations.store_snapshot(con, snapshot, ccadb_records=records)


def ccadb_record(sha: str, record_type: str, sub_owner: str | None, parent: str | None) -> CcadbRecord:
    is_root = parent is None
    return CcadbRecord(
        der_sha256=sha, salesforce_record_id=None, certificate_name=None, ca_owner=OWNER,
        subordinate_ca_owner=sub_owner, parent_der_sha256=parent, parent_salesforce_record_id=None,
        record_type=record_type, revocation_status="" if is_root else "Not Revoked",
        apple_status="Not Included", chrome_status="Included" if is_root else "Not Included",
        microsoft_status="Not Included", mozilla_status="Included" if is_root else "Provided by CA",
        root_status="", trust_bits_for_root=None, derived_trust_bits=None, technically_constrained=False,
        valid_from=None, valid_to=None, full_crl_urls=(), partitioned_crl_urls=(),
    )  # fmt: skip


@pytest.fixture(scope="session")
def root_ca() -> Ca:
    return make_ca("Test Secom Root")


@pytest.fixture
def world(tmp_path: Path, root_ca: Ca) -> Iterator[World]:
    connection = warehouse.connect(tmp_path / "w.duckdb")
    yield World.start(connection, tmp_path, root_ca)
    connection.close()


def revoked(
    serial: int, at: datetime, reason: x509.ReasonFlags | None = x509.ReasonFlags.superseded
) -> Revoked:
    return Revoked(serial, at, reason)
