"""The revocation side of a simulated world: what each source says about each certificate, and when.

The scenario's revocation tables (format in scenario.md) are resolved here against the generated
world into timelines: CRL versions per issuing CA, OCSP status, CCADB status and Mozilla's
revoked-intermediates report, OneCRL records, CRLSet entries, crt.sh's certificate index and
Bugzilla bugs. Every service answers from these timelines as of the request, and
`RevocationWorld.ground_truth()` states them with exact times for tests.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cryptography import x509

from ctwatch.sim.pki import spki_der
from ctwatch.sim.scenario import (
    SERVICE_ENDPOINTS,
    Fault,
    Scenario,
    ScenarioError,
    _opt_time,
    _require,
    _time,
    parse_fault,
)

if TYPE_CHECKING:
    from ctwatch.sim.pki import CaCert
    from ctwatch.sim.world import World

# RFC 5280 §5.3.1 CRLReason names, as CCADB and the RFC spell them.
REASON_CODES = {
    "unspecified": 0,
    "keyCompromise": 1,
    "cACompromise": 2,
    "affiliationChanged": 3,
    "superseded": 4,
    "cessationOfOperation": 5,
    "certificateHold": 6,
    "removeFromCRL": 8,
    "privilegeWithdrawn": 9,
    "aACompromise": 10,
}
REASON_FLAGS = {
    0: x509.ReasonFlags.unspecified,
    1: x509.ReasonFlags.key_compromise,
    2: x509.ReasonFlags.ca_compromise,
    3: x509.ReasonFlags.affiliation_changed,
    4: x509.ReasonFlags.superseded,
    5: x509.ReasonFlags.cessation_of_operation,
    6: x509.ReasonFlags.certificate_hold,
    8: x509.ReasonFlags.remove_from_crl,
    9: x509.ReasonFlags.privilege_withdrawn,
    10: x509.ReasonFlags.aa_compromise,
}
OCSP_BEHAVIOURS = ("follows_crl", "lags", "good")
# `{kind:cert id}` in bug summaries and comment texts, replaced with the generated world's values.
BUG_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+):([^{}\s]+)\}")
BUG_PLACEHOLDER_KINDS = ("sha256", "serial", "issuer_cn", "crtsh_id")
STORES = ("apple", "chrome", "microsoft", "mozilla")
SERVICES = SERVICE_ENDPOINTS


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Settings:
    crl_next_update_days: int = 7
    crl_reissue_hours: int = 168  # regular re-publication even without a change; 0: only on changes
    ocsp_validity_hours: int = 168
    crtsh_result_limit: int = 10_000
    crlset_validity_days: int = 7


@dataclass(frozen=True, slots=True)
class OneCrlSpec:
    created: datetime  # details.created: when Mozilla acted
    last_modified: datetime  # record's last_modified; the record is served from then
    form: str  # "issuer_serial" or "subject_key"
    bug: int | None


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


@dataclass(frozen=True, slots=True)
class Partitioning:
    count: int
    undisclosed: frozenset[int]  # partitions CCADB's list leaves out


@dataclass(frozen=True, slots=True)
class RootStatus:
    apple: str = "Included"
    chrome: str = "Included"
    microsoft: str = "Included"
    mozilla: str = "Included"
    trust_bits: str = "Websites"


# The assignee of a simulated bug and the author of its comments unless a scenario names others.
CA_REPRESENTATIVE = "ca-representative@sim.example"
REPORTER = "reporter@sim.example"


@dataclass(frozen=True, slots=True)
class Comment:
    at: datetime
    text: str
    creator: str


@dataclass(frozen=True, slots=True)
class Bug:
    id: int
    owner: str  # the CA owner it is about (ground truth link; Bugzilla itself has no such field)
    summary: str
    whiteboard: str
    creation_time: datetime
    resolved_at: datetime | None
    product: str
    component: str
    assigned_to: str  # the CA's representative
    reporter: str  # Bugzilla's `creator`
    comments: tuple[Comment, ...]

    def status_as_of(self, moment: datetime) -> tuple[str, str]:
        if self.resolved_at is not None and self.resolved_at <= moment:
            return "RESOLVED", "FIXED"
        return "ASSIGNED", ""

    def last_change_as_of(self, moment: datetime) -> datetime:
        times = [self.creation_time, *(c.at for c in self.comments if c.at <= moment)]
        if self.resolved_at is not None and self.resolved_at <= moment:
            times.append(self.resolved_at)
        return max(times)


@dataclass(frozen=True, slots=True)
class CrtShCert:
    """A certificate crt.sh knows: a logged leaf or precertificate, or a CA certificate seen in chains."""

    id: int
    der: bytes
    issuer_key_group: str
    entry_timestamp_ms: int | None  # None for CA certificates (never logged themselves)
    known_from_ms: int
    identities: tuple[str, ...]  # commonName, dNSNames / organizationName, lower-case matching
    common_name: str
    serial: int
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True, slots=True)
class RevocationSpecs:
    """The revocation tables of a scenario file, still naming certificates by id."""

    settings: Settings
    revocations: tuple[dict[str, Any], ...]
    partitions: dict[str, Partitioning]
    ocsp_delegates: dict[str, str]  # CA spec id -> CA certificate id that signs its OCSP responses
    root_status: dict[str, RootStatus]
    bugs: tuple[Bug, ...]
    service_faults: dict[str, tuple[Fault, ...]]


def _int_table(table: dict[str, Any], key: str, default: int) -> int:
    return int(table.get(key, default))


def parse_revocation_tables(scenario: Scenario) -> RevocationSpecs:
    """Read `scenario.extra`'s revocation tables; raises ScenarioError naming the offending item."""
    extra = scenario.extra
    raw = extra.get("revocation", {})
    defaults = Settings()
    settings = Settings(
        crl_next_update_days=_int_table(raw, "crl_next_update_days", defaults.crl_next_update_days),
        crl_reissue_hours=_int_table(raw, "crl_reissue_hours", defaults.crl_reissue_hours),
        ocsp_validity_hours=_int_table(raw, "ocsp_validity_hours", defaults.ocsp_validity_hours),
        crtsh_result_limit=_int_table(raw, "crtsh_result_limit", defaults.crtsh_result_limit),
        crlset_validity_days=_int_table(raw, "crlset_validity_days", defaults.crlset_validity_days),
    )
    spec_ids = {ca.id for ca in scenario.cas}
    partitions: dict[str, Partitioning] = {}
    for pos, table in enumerate(extra.get("crl_partitions", [])):
        where = f"crl_partitions[{pos}]"
        ca_id = str(_require(table, "ca", where))
        count = int(_require(table, "count", where))
        if ca_id not in spec_ids or count < 2:
            raise ScenarioError(f"{where}: needs a known CA id and count >= 2")
        partitions[ca_id] = Partitioning(count, frozenset(int(n) for n in table.get("undisclosed", ())))
    delegates: dict[str, str] = {}
    for pos, table in enumerate(extra.get("ocsp_delegates", [])):
        where = f"ocsp_delegates[{pos}]"
        delegates[str(_require(table, "ca", where))] = str(_require(table, "responder", where))
    root_status: dict[str, RootStatus] = {}
    for pos, table in enumerate(extra.get("root_stores", [])):
        where = f"root_stores[{pos}]"
        root_id = str(_require(table, "root", where))
        base = RootStatus()
        root_status[root_id] = RootStatus(
            *(str(table.get(name, getattr(base, name))) for name in (*STORES, "trust_bits"))
        )
    bugs = tuple(_bug(table, f"bugs[{pos}]") for pos, table in enumerate(extra.get("bugs", [])))
    faults: dict[str, list[Fault]] = {}
    for pos, table in enumerate(extra.get("service_faults", [])):
        where = f"service_faults[{pos}]"
        service = str(_require(table, "service", where))
        if service not in SERVICES:
            raise ScenarioError(f"{where}: service must be one of {', '.join(SERVICES)}")
        fault = parse_fault({k: v for k, v in table.items() if k != "service"}, where)
        faults.setdefault(service, []).append(fault)
    return RevocationSpecs(
        settings=settings,
        revocations=tuple(extra.get("revocations", [])),
        partitions=partitions,
        ocsp_delegates=delegates,
        root_status=root_status,
        bugs=bugs,
        service_faults={k: tuple(v) for k, v in faults.items()},
    )


def _bug(table: dict[str, Any], where: str) -> Bug:
    comments = tuple(
        Comment(
            _time(_require(c, "at", where), where),
            str(_require(c, "text", where)),
            str(c.get("creator", CA_REPRESENTATIVE)),
        )
        for c in table.get("comments", [])
    )
    return Bug(
        id=int(_require(table, "id", where)),
        owner=str(_require(table, "owner", where)),
        summary=str(_require(table, "summary", where)),
        whiteboard=str(table.get("whiteboard", "")),
        creation_time=_time(_require(table, "creation_time", where), where),
        resolved_at=_opt_time(table.get("resolved_at"), where),
        product=str(table.get("product", "CA Program")),
        component=str(table.get("component", "CA Certificate Compliance")),
        assigned_to=str(table.get("assigned_to", CA_REPRESENTATIVE)),
        reporter=str(table.get("reporter", REPORTER)),
        comments=comments,
    )


def _reason(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and value in REASON_FLAGS:
        return value
    if isinstance(value, str) and value in REASON_CODES:
        return REASON_CODES[value]
    raise ScenarioError(f"{where}: unknown reason {value!r} (RFC 5280 name or code)")


class RevocationWorld:
    """Revocation timelines of a world; built once per World (`world.revocations`)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.scenario = world.scenario
        specs = parse_revocation_tables(world.scenario)
        self.settings = specs.settings
        self.partitions = specs.partitions
        self.root_status = specs.root_status
        self._bug_specs = specs.bugs
        self._check_bug_placeholders()
        self.service_faults = specs.service_faults
        self.revocations = tuple(
            r for pos, table in enumerate(specs.revocations) for r in self._resolve(table, pos)
        )
        self.ocsp_delegates = specs.ocsp_delegates
        for ca_id, responder in self.ocsp_delegates.items():
            cert = world.ca_certs.get(responder)
            if cert is None or cert.spec.parent != ca_id or not cert.spec.ocsp_signing:
                raise ScenarioError(
                    f"ocsp_delegates: {responder!r} must be a CA certificate with OCSPSigning"
                    f" issued by {ca_id!r}"
                )
        self.crl_versions = {scope: self._version_times(scope) for scope in self.crl_scopes()}

    # -- resolution of the scenario's revocations --

    def _resolve(self, table: dict[str, Any], pos: int) -> list[Revocation]:
        where = f"revocations[{pos}]"
        claimed = _time(_require(table, "revoked_at_claimed", where), where)
        published = _opt_time(table.get("published_at"), where)
        removed = _opt_time(table.get("removed_at"), where)
        if removed is not None and (published is None or removed <= published):
            raise ScenarioError(f"{where}: removed_at needs a published_at before it")
        # Never on the CRL: the responder has nothing to follow and keeps saying good.
        behaviour = str(table.get("ocsp", "follows_crl" if published is not None else "good"))
        if behaviour not in OCSP_BEHAVIOURS:
            raise ScenarioError(f"{where}: ocsp must be one of {', '.join(OCSP_BEHAVIOURS)}")
        ocsp_from: datetime | None = published
        if behaviour == "lags":
            if published is None:
                raise ScenarioError(f"{where}: ocsp = 'lags' needs a published_at to lag behind")
            ocsp_from = published + timedelta(hours=int(_require(table, "ocsp_lag_hours", where)))
        elif behaviour == "good":
            ocsp_from = None
        onecrl = None
        if "onecrl_created" in table:
            created = _time(table["onecrl_created"], where)
            form = str(table.get("onecrl_form", "issuer_serial"))
            if form not in ("issuer_serial", "subject_key"):
                raise ScenarioError(f"{where}: onecrl_form must be issuer_serial or subject_key")
            onecrl = OneCrlSpec(
                created=created,
                last_modified=_time(table.get("onecrl_last_modified", created), where),
                form=form,
                bug=int(table["onecrl_bug"]) if "onecrl_bug" in table else None,
            )
        ccadb_day = table.get("ccadb_date_of_revocation", claimed.date())
        common: dict[str, Any] = {
            "revoked_at_claimed": claimed,
            "published_at": published,
            "reason_code": _reason(table.get("reason"), where),
            "removed_at": removed,
            "ocsp_behaviour": behaviour,
            "ocsp_revoked_from": ocsp_from,
            "ccadb_revoked_from": _opt_time(table.get("ccadb_revoked_from"), where),
            "ccadb_date_of_revocation": ccadb_day if isinstance(ccadb_day, date) else claimed.date(),
            "onecrl": onecrl,
            "crlset_from": _opt_time(table.get("crlset_from"), where),
        }
        if "cert" in table:
            cert = self.world.ca_certs.get(str(table["cert"]))
            if cert is None or cert.spec.parent is None:
                raise ScenarioError(f"{where}: {table['cert']!r} is not a non-root CA certificate id")
            serial = x509.load_der_x509_certificate(cert.der).serial_number
            return [Revocation(cert.cert_id, serial, cert.spec.parent, cert.der, True, **common)]
        issuer_id = str(_require(table, "leaves_of", where))
        if issuer_id not in self.world.ca_certs:
            raise ScenarioError(f"{where}: unknown issuing certificate {issuer_id!r}")
        count = int(table.get("count", 1))
        leaves = [c for c in self.crtsh_certs if c.entry_timestamp_ms is not None]
        chosen = [c for c in leaves if self._leaf_issuer.get(c.id) == issuer_id][:count]
        if len(chosen) < count:
            raise ScenarioError(f"{where}: {issuer_id!r} issued only {len(chosen)} leaves")
        scope = self.world.ca_certs[issuer_id].spec.id
        return [Revocation(f"leaf:{c.serial:x}", c.serial, scope, c.der, False, **common) for c in chosen]

    # -- Bugzilla texts naming certificates --

    def _check_bug_placeholders(self) -> None:
        """Unknown placeholder kinds and certificate ids fail when the world is built, not when served."""
        for pos, bug in enumerate(self._bug_specs):
            texts = [("summary", bug.summary)]
            texts += [(f"comments[{n}]", comment.text) for n, comment in enumerate(bug.comments)]
            for field_name, text in texts:
                for match in BUG_PLACEHOLDER.finditer(text):
                    kind, cert_id = match.groups()
                    where = f"bugs[{pos}] (bug {bug.id}) {field_name}: {match.group(0)}"
                    if kind not in BUG_PLACEHOLDER_KINDS:
                        raise ScenarioError(
                            f"{where}: unknown placeholder kind (one of {', '.join(BUG_PLACEHOLDER_KINDS)})"
                        )
                    if cert_id not in self.world.ca_certs:
                        raise ScenarioError(f"{where}: {cert_id!r} is not a CA certificate id")

    @cached_property
    def bugs(self) -> tuple[Bug, ...]:
        """The bugs as served: placeholders replaced (crt.sh's index is built only if one needs it)."""
        return tuple(
            replace(
                bug,
                summary=self._fill_placeholders(bug.summary),
                comments=tuple(replace(c, text=self._fill_placeholders(c.text)) for c in bug.comments),
            )
            for bug in self._bug_specs
        )

    def _fill_placeholders(self, text: str) -> str:
        return BUG_PLACEHOLDER.sub(lambda match: self._placeholder_value(*match.groups()), text)

    def _placeholder_value(self, kind: str, cert_id: str) -> str:
        cert = self.world.ca_certs[cert_id]
        parsed = x509.load_der_x509_certificate(cert.der)
        if kind == "sha256":
            return cert.der_sha256
        if kind == "serial":
            return format(parsed.serial_number, "x")  # as ParsedCert.serial_hex writes a positive serial
        if kind == "issuer_cn":
            return _attr(parsed.issuer, x509.NameOID.COMMON_NAME)
        return str(self.crtsh_id_of_ca(cert_id))

    def crtsh_id_of_ca(self, cert_id: str) -> int:
        """The id crt.sh gives a CA certificate of the world."""
        der = self.world.ca_certs[cert_id].der
        return next(c.id for c in self.crtsh_certs if c.entry_timestamp_ms is None and c.der == der)

    # -- CRLs --

    def crl_scopes(self) -> list[str]:
        """CA spec ids that publish a CRL: every CA that issues something."""
        return sorted(
            {ca.parent for ca in self.scenario.cas if ca.parent}
            | {ca.id for ca in self.scenario.cas if ca.leaves + ca.precerts > 0}
        )

    def crl_signer(self, scope: str) -> CaCert:
        return self.world.ca_certs[scope]

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
            parent = self.world.ca_certs[parent_id]
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

    @staticmethod
    def onecrl_record_id(rev: Revocation) -> str:
        return str(uuid.UUID(bytes=hashlib.sha256(f"onecrl/{rev.cert_id}".encode()).digest()[:16], version=4))

    # -- crt.sh: every certificate it knows --

    @cached_property
    def _crtsh_index(self) -> tuple[list[CrtShCert], dict[int, str]]:
        """Leaves from every log (deduplicated, first entry time) and CA certificates from chains."""
        first: dict[bytes, tuple[int, str, int]] = {}  # leaf DER -> (timestamp, issuing cert, order)
        order = 0
        ca_first_ms: dict[str, int] = {}
        for log in self.world.logs.values():
            for index in range(log.size):
                record = log.record(index)
                template = log.template_of(index)
                der = log.certificate(index)
                known = first.get(der)
                if known is None or record.timestamp_ms < known[0]:
                    first[der] = (record.timestamp_ms, template.issuer_cert_id, order)
                order += 1
                for cert_id in template.chain_ids:
                    if record.timestamp_ms < ca_first_ms.get(cert_id, 2**63):
                        ca_first_ms[cert_id] = record.timestamp_ms
        pending: list[tuple[int, bytes, str | None, int | None, str | None]] = []
        for der, (timestamp_ms, leaf_issuer_id, _) in first.items():
            pending.append((timestamp_ms, der, None, timestamp_ms, leaf_issuer_id))
        for cert_id, cert in self.world.ca_certs.items():
            pending.append(
                (ca_first_ms.get(cert_id, _ms(self.scenario.start)), cert.der, cert_id, None, None)
            )
        pending.sort(key=lambda p: (p[0], hashlib.sha256(p[1]).digest()))
        certs: list[CrtShCert] = []
        leaf_issuer: dict[int, str] = {}
        for number, (known_ms, der, ca_id, entry_ms, issuer_id) in enumerate(pending):
            parsed = x509.load_der_x509_certificate(der)
            cn = _attr(parsed.subject, x509.NameOID.COMMON_NAME)
            if ca_id is not None:
                ca_cert = self.world.ca_certs[ca_id]
                issuer_group = (
                    self.world.ca_certs[ca_cert.chain_ids[1]].key_group
                    if ca_cert.spec.parent
                    else ca_cert.key_group
                )
                identities: tuple[str, ...] = (cn, _attr(parsed.subject, x509.NameOID.ORGANIZATION_NAME))
            else:
                assert issuer_id is not None
                issuer_group = self.world.ca_certs[issuer_id].key_group
                identities = (cn,)
            crtsh_id = 100_000 + number
            if issuer_id is not None:
                leaf_issuer[crtsh_id] = issuer_id
            certs.append(
                CrtShCert(
                    id=crtsh_id,
                    der=der,
                    issuer_key_group=issuer_group,
                    entry_timestamp_ms=entry_ms,
                    known_from_ms=known_ms,
                    identities=tuple(i.lower() for i in identities if i),
                    common_name=cn,
                    serial=parsed.serial_number,
                    not_before=parsed.not_valid_before_utc,
                    not_after=parsed.not_valid_after_utc,
                )
            )
        return certs, leaf_issuer

    @property
    def crtsh_certs(self) -> list[CrtShCert]:
        return self._crtsh_index[0]

    @property
    def _leaf_issuer(self) -> dict[int, str]:
        return self._crtsh_index[1]

    def crtsh_ca_ids(self) -> dict[str, int]:
        """crt.sh CA id per key group: crt.sh's `ca` row is (subject name, public key)."""
        groups = sorted({c.key_group for c in self.world.ca_certs.values()})
        return {group: 1000 + n for n, group in enumerate(groups)}

    # -- ground truth --

    def ground_truth(self) -> dict[str, Any]:
        revocations = []
        for rev in self.revocations:
            times = self.crl_versions[rev.scope]
            listed = [t for t in times if rev.on_crl(t)]
            published = rev.published_at
            before = [t for t in times if t < published] if published is not None else []
            last_without = before[-1] if before else None
            parts = self.partitions.get(rev.scope)
            partition = rev.serial % parts.count if parts else None
            revocations.append(
                {
                    "cert_id": rev.cert_id,
                    "der_sha256": rev.der_sha256,
                    "is_ca": rev.is_ca,
                    "serial_hex": f"{rev.serial:x}",
                    "crl_scope": rev.scope,
                    "crl_url": self.crl_url(rev.scope),
                    "crl_partition": partition,
                    "crl_partition_url": self.crl_url(rev.scope, partition)
                    if partition is not None
                    else None,
                    "reason_code": rev.reason_code,
                    "revoked_at_claimed": iso_z(rev.revoked_at_claimed),
                    "crl_first_listed_at": iso_z(listed[0]) if listed else None,
                    "crl_last_listed_at": iso_z(listed[-1]) if listed else None,
                    "crl_last_version_without_at": iso_z(last_without) if last_without else None,
                    "backdated": last_without is not None and rev.revoked_at_claimed < last_without,
                    "removed_at": iso_z(rev.removed_at) if rev.removed_at else None,
                    "ocsp_behaviour": rev.ocsp_behaviour,
                    "ocsp_revoked_from": iso_z(rev.ocsp_revoked_from) if rev.ocsp_revoked_from else None,
                    "ccadb_revoked_from": iso_z(rev.ccadb_revoked_from) if rev.ccadb_revoked_from else None,
                    "ccadb_date_of_revocation": rev.ccadb_date_of_revocation.isoformat(),
                    "onecrl": None
                    if rev.onecrl is None
                    else {
                        "id": self.onecrl_record_id(rev),
                        "created": iso_z(rev.onecrl.created),
                        "last_modified_ms": _ms(rev.onecrl.last_modified),
                        "form": rev.onecrl.form,
                    },
                    "crlset_from": iso_z(rev.crlset_from) if rev.crlset_from else None,
                }
            )
        return {
            "revocations": revocations,
            "crl_versions": {
                scope: {
                    "url": self.crl_url(scope),
                    "this_updates": [iso_z(t) for t in times],
                    "partition_urls": [self.crl_url(scope, n) for n in range(self.partitions[scope].count)]
                    if scope in self.partitions
                    else [],
                    "undisclosed_partition_urls": [
                        self.crl_url(scope, n) for n in sorted(self.partitions[scope].undisclosed)
                    ]
                    if scope in self.partitions
                    else [],
                }
                for scope, times in self.crl_versions.items()
            },
            "ocsp_delegates": {
                ca_id: {"responder": cert_id, "der_sha256": self.world.ca_certs[cert_id].der_sha256}
                for ca_id, cert_id in self.ocsp_delegates.items()
            },
            "bugs": [
                {
                    "id": bug.id,
                    "owner": bug.owner,
                    "summary": bug.summary,
                    "whiteboard": bug.whiteboard,
                    "creation_time": iso_z(bug.creation_time),
                    "resolved_at": iso_z(bug.resolved_at) if bug.resolved_at else None,
                }
                for bug in self.bugs
            ],
            "crtsh_result_limit": self.settings.crtsh_result_limit,
        }

    def key_sha1(self, cert: CaCert) -> bytes:
        """SHA-1 of the subjectPublicKey BIT STRING contents (OCSP CertID and ResponderID byKey);
        an uncompressed P-256 point is the SPKI's last 65 bytes."""
        spki = spki_der(self.world.hierarchy.key(cert.key_group))
        return hashlib.sha1(spki[-65:]).digest()  # noqa: S324 - RFC 6960 mandates SHA-1 here

    @cached_property
    def _cert_id_hashes(self) -> dict[tuple[str, bytes, bytes], set[str]]:
        """(hash name, issuerNameHash, issuerKeyHash) -> CA spec ids with that name and key."""
        table: dict[tuple[str, bytes, bytes], set[str]] = {}
        for ca in self.scenario.cas:
            cert = self.world.ca_certs[ca.id]
            name_der = x509.load_der_x509_certificate(cert.der).subject.public_bytes()
            spki = spki_der(self.world.hierarchy.key(cert.key_group))
            for algorithm in ("sha1", "sha256"):
                digest = getattr(hashlib, algorithm)
                key = (algorithm, digest(name_der).digest(), digest(spki[-65:]).digest())
                table.setdefault(key, set()).add(ca.id)
        return table

    def scopes_by_cert_id_hash(self, algorithm: str, name_hash: bytes, key_hash: bytes) -> set[str]:
        return self._cert_id_hashes.get((algorithm, name_hash, key_hash), set())

    def issued_serial(self, scopes: set[str], serial: int) -> bool:
        """Whether a certificate with `serial` was issued by one of the CA specs `scopes`."""
        for cert in self.world.ca_certs.values():
            if (
                cert.spec.parent in scopes
                and x509.load_der_x509_certificate(cert.der).serial_number == serial
            ):
                return True
        return any(
            c.serial == serial and self.world.ca_certs[self._leaf_issuer[c.id]].spec.id in scopes
            for c in self.crtsh_certs
            if c.id in self._leaf_issuer
        )

    def spki_sha256(self, cert: CaCert) -> bytes:
        return hashlib.sha256(spki_der(self.world.hierarchy.key(cert.key_group))).digest()


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""
