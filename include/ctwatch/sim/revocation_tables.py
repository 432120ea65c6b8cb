"""The revocation tables of a scenario file (format in scenario.md, "Revocations"), read into values
that still name certificates by id; revocations.py resolves them against the generated world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cryptography import x509

from ctwatch.sim.faults import SERVICE_ENDPOINTS, Fault
from ctwatch.sim.scenario import (
    Scenario,
    ScenarioError,
    optional_time,
    parse_fault,
    required,
    to_time,
)

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
STORES = ("apple", "chrome", "microsoft", "mozilla")


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
        ca_id = str(required(table, "ca", where))
        count = int(required(table, "count", where))
        if ca_id not in spec_ids or count < 2:
            raise ScenarioError(f"{where}: needs a known CA id and count >= 2")
        partitions[ca_id] = Partitioning(count, frozenset(int(n) for n in table.get("undisclosed", ())))
    delegates: dict[str, str] = {}
    for pos, table in enumerate(extra.get("ocsp_delegates", [])):
        where = f"ocsp_delegates[{pos}]"
        delegates[str(required(table, "ca", where))] = str(required(table, "responder", where))
    root_status: dict[str, RootStatus] = {}
    for pos, table in enumerate(extra.get("root_stores", [])):
        where = f"root_stores[{pos}]"
        root_id = str(required(table, "root", where))
        base = RootStatus()
        root_status[root_id] = RootStatus(
            *(str(table.get(name, getattr(base, name))) for name in (*STORES, "trust_bits"))
        )
    bugs = tuple(_bug(table, f"bugs[{pos}]") for pos, table in enumerate(extra.get("bugs", [])))
    faults: dict[str, list[Fault]] = {}
    for pos, table in enumerate(extra.get("service_faults", [])):
        where = f"service_faults[{pos}]"
        service = str(required(table, "service", where))
        if service not in SERVICE_ENDPOINTS:
            raise ScenarioError(f"{where}: service must be one of {', '.join(SERVICE_ENDPOINTS)}")
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
            to_time(required(c, "at", where), where),
            str(required(c, "text", where)),
            str(c.get("creator", CA_REPRESENTATIVE)),
        )
        for c in table.get("comments", [])
    )
    return Bug(
        id=int(required(table, "id", where)),
        owner=str(required(table, "owner", where)),
        summary=str(required(table, "summary", where)),
        whiteboard=str(table.get("whiteboard", "")),
        creation_time=to_time(required(table, "creation_time", where), where),
        resolved_at=optional_time(table.get("resolved_at"), where),
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


def revocation_row_fields(table: dict[str, Any], where: str) -> dict[str, Any]:
    """The fields of a `[[revocations]]` row that every certificate it names shares: what the CA
    claims and when each source shows the revocation (keyword arguments of `Revocation`)."""
    claimed = to_time(required(table, "revoked_at_claimed", where), where)
    published = optional_time(table.get("published_at"), where)
    removed = optional_time(table.get("removed_at"), where)
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
        ocsp_from = published + timedelta(hours=int(required(table, "ocsp_lag_hours", where)))
    elif behaviour == "good":
        ocsp_from = None
    onecrl = None
    if "onecrl_created" in table:
        created = to_time(table["onecrl_created"], where)
        form = str(table.get("onecrl_form", "issuer_serial"))
        if form not in ("issuer_serial", "subject_key"):
            raise ScenarioError(f"{where}: onecrl_form must be issuer_serial or subject_key")
        onecrl = OneCrlSpec(
            created=created,
            last_modified=to_time(table.get("onecrl_last_modified", created), where),
            form=form,
            bug=int(table["onecrl_bug"]) if "onecrl_bug" in table else None,
        )
    ccadb_day = table.get("ccadb_date_of_revocation", claimed.date())
    return {
        "revoked_at_claimed": claimed,
        "published_at": published,
        "reason_code": _reason(table.get("reason"), where),
        "removed_at": removed,
        "ocsp_behaviour": behaviour,
        "ocsp_revoked_from": ocsp_from,
        "ccadb_revoked_from": optional_time(table.get("ccadb_revoked_from"), where),
        "ccadb_date_of_revocation": ccadb_day if isinstance(ccadb_day, date) else claimed.date(),
        "onecrl": onecrl,
        "crlset_from": optional_time(table.get("crlset_from"), where),
    }
