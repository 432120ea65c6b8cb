"""The revocation side of a simulated world: what each source says about each certificate, and when.

The scenario's revocation tables (revocation_tables.py) are resolved here against the generated
CA certificates and logs into timelines: CRL versions per issuing CA, OCSP status, CCADB status
and Mozilla's revoked-intermediates report, OneCRL records, CRLSet entries and Bugzilla bugs, with
crt.sh's certificate index (crtsh_index.py). Every service answers from these timelines as of the
request; revocation_truth.py states them with exact times for tests.
"""

from __future__ import annotations

import bisect
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from cryptography import x509

from ctwatch.sim.bug_placeholders import check_bug_placeholders, fill_bug_placeholders
from ctwatch.sim.crtsh_index import CrtShCert, CrtShIndex, build_crtsh_index
from ctwatch.sim.log_files import SimLog
from ctwatch.sim.pki import CaCert, Hierarchy, spki_der
from ctwatch.sim.revocation_tables import (
    Bug,
    OneCrlSpec,
    parse_revocation_tables,
    revocation_row_fields,
)
from ctwatch.sim.scenario import Scenario, ScenarioError, required


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revoked certificate with the times each source shows it."""

    cert_id: str  # CA certificate id, or "leaf:<serial hex>" for a leaf
    serial: int
    scope: str  # CA spec id whose CRL (crl.<slug>.example/<scope>.crl) lists it
    der: bytes
    is_ca: bool
    revoked_at_claimed: datetime  # the CRL revocationDate / OCSP revocationTime the CA writes
    published_at: datetime | None  # first CRL version that lists it; None: never on the CRL
    reason_code: int | None  # None: no reasonCode entry extension
    removed_at: datetime | None  # first CRL version that no longer lists it (early removal)
    ocsp_behaviour: str
    ocsp_revoked_from: datetime | None  # None: the responder keeps saying good
    ccadb_revoked_from: datetime | None  # CCADB status "Revoked" and the Mozilla report row from then
    ccadb_date_of_revocation: date
    onecrl: OneCrlSpec | None
    crlset_from: datetime | None

    @property
    def der_sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    def on_crl(self, moment: datetime) -> bool:
        if self.published_at is None:
            return False
        return self.published_at <= moment and (self.removed_at is None or moment < self.removed_at)


class RevocationWorld:
    """Revocation timelines of a world, built from its scenario, CA certificates and logs
    (`World.revocations`)."""

    def __init__(self, scenario: Scenario, hierarchy: Hierarchy, logs: Mapping[str, SimLog]) -> None:
        self.scenario = scenario
        self.hierarchy = hierarchy
        self.ca_certs = hierarchy.certs
        self._logs = logs
        specs = parse_revocation_tables(scenario)
        self.settings = specs.settings
        self.partitions = specs.partitions
        self.root_status = specs.root_status
        self._bug_specs = specs.bugs
        check_bug_placeholders(self._bug_specs, self.ca_certs)
        self.service_faults = specs.service_faults
        self.revocations = tuple(
            r for pos, table in enumerate(specs.revocations) for r in self._resolve(table, pos)
        )
        self.ocsp_delegates = specs.ocsp_delegates
        for ca_id, responder in self.ocsp_delegates.items():
            cert = self.ca_certs.get(responder)
            if cert is None or cert.spec.parent != ca_id or not cert.spec.ocsp_signing:
                raise ScenarioError(
                    f"ocsp_delegates: {responder!r} must be a CA certificate with OCSPSigning"
                    f" issued by {ca_id!r}"
                )
        self.crl_versions = {scope: self._version_times(scope) for scope in self.crl_scopes()}

    def _resolve(self, table: dict[str, Any], pos: int) -> list[Revocation]:
        """The certificates a `[[revocations]]` row names, with the row's times."""
        where = f"revocations[{pos}]"
        common = revocation_row_fields(table, where)
        if "cert" in table:
            cert = self.ca_certs.get(str(table["cert"]))
            if cert is None or cert.spec.parent is None:
                raise ScenarioError(f"{where}: {table['cert']!r} is not a non-root CA certificate id")
            serial = x509.load_der_x509_certificate(cert.der).serial_number
            return [Revocation(cert.cert_id, serial, cert.spec.parent, cert.der, True, **common)]
        issuer_id = str(required(table, "leaves_of", where))
        if issuer_id not in self.ca_certs:
            raise ScenarioError(f"{where}: unknown issuing certificate {issuer_id!r}")
        count = int(table.get("count", 1))
        skip = int(table.get("skip", 0))
        if skip < 0:
            raise ScenarioError(f"{where}: skip must not be negative")
        # One per serial: a precertificate and its final certificate are one revocation (the first
        # crt.sh certificate carrying the serial stands for it).
        by_serial: dict[int, CrtShCert] = {}
        for leaf in self.crtsh_certs:
            if self.crtsh.leaf_issuer.get(leaf.id) == issuer_id:
                by_serial.setdefault(leaf.serial, leaf)
        chosen = list(by_serial.values())[skip : skip + count]
        if len(chosen) < count:
            raise ScenarioError(
                f"{where}: {issuer_id!r} issued only {len(by_serial)} distinct serials,"
                f" fewer than skip + count = {skip + count}"
            )
        scope = self.ca_certs[issuer_id].spec.id
        return [Revocation(f"leaf:{c.serial:x}", c.serial, scope, c.der, False, **common) for c in chosen]

    @cached_property
    def bugs(self) -> tuple[Bug, ...]:
        """The bugs as served: placeholders replaced (crt.sh's index is built only if one needs it)."""
        return fill_bug_placeholders(self._bug_specs, self.ca_certs, self._crtsh_id_of_ca)

    # -- crt.sh --

    @cached_property
    def crtsh(self) -> CrtShIndex:
        return build_crtsh_index(self.ca_certs, self._logs, self.scenario.start)

    @property
    def crtsh_certs(self) -> list[CrtShCert]:
        return self.crtsh.certs

    def _crtsh_id_of_ca(self, cert_id: str) -> int:
        der = self.ca_certs[cert_id].der
        return next(c.id for c in self.crtsh_certs if c.entry_timestamp_ms is None and c.der == der)

    # -- CRLs --

    def crl_scopes(self) -> list[str]:
        """CA spec ids that publish a CRL: every CA that issues something."""
        return sorted(
            {ca.parent for ca in self.scenario.cas if ca.parent}
            | {ca.id for ca in self.scenario.cas if ca.leaves + ca.precerts > 0}
        )

    def crl_signer(self, scope: str) -> CaCert:
        return self.ca_certs[scope]

    def crl_url(self, scope: str, partition: int | None = None) -> str:
        slug = self.scenario.owner_slug(self.scenario.ca(scope).host_slug_owner)
        name = scope if partition is None else f"{scope}-p{partition}"
        return f"http://crl.{slug}.example/{name}.crl"

    def _version_times(self, scope: str) -> list[datetime]:
        """thisUpdate of every CRL version of `scope`: regular re-issues over the period, and every
        publication or removal of an entry."""
        spec = self.scenario.ca(scope)
        first = max(self.scenario.start, spec.not_before)
        times = {first}
        step_h = self.settings.crl_reissue_hours
        if step_h > 0:
            moment = first
            while moment < self.scenario.end:
                times.add(moment)
                moment += timedelta(hours=step_h)
        for rev in self.revocations:
            if rev.scope == scope and rev.published_at is not None:
                times.add(max(first, rev.published_at))
                if rev.removed_at is not None:
                    times.add(max(first, rev.removed_at))
        return sorted(times)

    def crl_version_as_of(self, scope: str, moment: datetime) -> int | None:
        """0-based version number current at `moment` (None before the first one)."""
        position = bisect.bisect_right(self.crl_versions[scope], moment)
        return position - 1 if position else None

    def crl_entries(self, scope: str, version: int, partition: int | None) -> list[Revocation]:
        moment = self.crl_versions[scope][version]
        parts = self.partitions.get(scope)
        return sorted(
            (
                r
                for r in self.revocations
                if r.scope == scope
                and r.on_crl(moment)
                and (partition is None or parts is None or r.serial % parts.count == partition)
            ),
            key=lambda r: r.serial,
        )

    # -- OCSP, CCADB, OneCRL, CRLSet as of a moment --

    def revocation_of(self, scope_ids: set[str], serial: int) -> Revocation | None:
        for rev in self.revocations:
            if rev.scope in scope_ids and rev.serial == serial:
                return rev
        return None

    def ccadb_status(self, cert: CaCert, moment: datetime) -> str:
        """CCADB "Revocation Status" of a non-root record as of `moment` (roots have none)."""
        if cert.spec.parent is None:
            return ""
        for rev in self.revocations:
            revoked_from = rev.ccadb_revoked_from
            if rev.cert_id == cert.cert_id and revoked_from is not None and revoked_from <= moment:
                return "Revoked"
        for parent_id in cert.chain_ids[1:]:
            parent = self.ca_certs[parent_id]
            if parent.spec.parent is not None and self.ccadb_status(parent, moment) == "Revoked":
                return "Parent Cert Revoked"
        return "Not Revoked"

    def onecrl_as_of(self, moment: datetime) -> list[Revocation]:
        return [r for r in self.revocations if r.onecrl is not None and r.onecrl.last_modified <= moment]

    def crlset_as_of(self, moment: datetime) -> list[Revocation]:
        return [r for r in self.revocations if r.crlset_from is not None and r.crlset_from <= moment]

    def crlset_sequence(self, moment: datetime) -> int:
        changes = {r.crlset_from for r in self.revocations if r.crlset_from is not None}
        return 1 + sum(1 for t in changes if t <= moment)

    def key_sha1(self, cert: CaCert) -> bytes:
        """SHA-1 of the subjectPublicKey BIT STRING contents (OCSP CertID and ResponderID byKey);
        an uncompressed P-256 point is the SPKI's last 65 bytes."""
        spki = spki_der(self.hierarchy.key(cert.key_group))
        return hashlib.sha1(spki[-65:]).digest()  # noqa: S324 - RFC 6960 mandates SHA-1 here

    @cached_property
    def _cert_id_hashes(self) -> dict[tuple[str, bytes, bytes], set[str]]:
        """(hash name, issuerNameHash, issuerKeyHash) -> CA spec ids with that name and key."""
        table: dict[tuple[str, bytes, bytes], set[str]] = {}
        for ca in self.scenario.cas:
            cert = self.ca_certs[ca.id]
            name_der = x509.load_der_x509_certificate(cert.der).subject.public_bytes()
            spki = spki_der(self.hierarchy.key(cert.key_group))
            for algorithm in ("sha1", "sha256"):
                digest = getattr(hashlib, algorithm)
                key = (algorithm, digest(name_der).digest(), digest(spki[-65:]).digest())
                table.setdefault(key, set()).add(ca.id)
        return table

    def scopes_by_cert_id_hash(self, algorithm: str, name_hash: bytes, key_hash: bytes) -> set[str]:
        return self._cert_id_hashes.get((algorithm, name_hash, key_hash), set())

    def issued_serial(self, scopes: set[str], serial: int) -> bool:
        """Whether a certificate with `serial` was issued by one of the CA specs `scopes`."""
        for cert in self.ca_certs.values():
            if (
                cert.spec.parent in scopes
                and x509.load_der_x509_certificate(cert.der).serial_number == serial
            ):
                return True
        leaf_issuer = self.crtsh.leaf_issuer
        return any(
            c.serial == serial and self.ca_certs[leaf_issuer[c.id]].spec.id in scopes
            for c in self.crtsh_certs
            if c.id in leaf_issuer
        )

    def spki_sha256(self, cert: CaCert) -> bytes:
        return hashlib.sha256(spki_der(self.hierarchy.key(cert.key_group))).digest()


def onecrl_record_id(rev: Revocation) -> str:
    """The remote-settings id of a revocation's OneCRL record, stable per certificate."""
    return str(uuid.UUID(bytes=hashlib.sha256(f"onecrl/{rev.cert_id}".encode()).digest()[:16], version=4))
