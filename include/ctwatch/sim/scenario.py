"""Scenario files: one TOML file describes the simulated world (format in scenario.md).

This module reads the CA hierarchy, the CT logs and their faults; the revocation tables stay in
`Scenario.extra` for revocation_tables.py.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from ctwatch.sim.faults import FAULT_ENDPOINTS, Fault, FaultKind

# Fault and FaultKind are part of a scenario's vocabulary (`[[logs.faults]]`): tests build them from here.
__all__ = [
    "CaSpec",
    "Fault",
    "FaultKind",
    "LogKind",
    "LogSpec",
    "Owner",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "optional_time",
    "parse_fault",
    "parse_scenario",
    "required",
    "slugify",
    "to_time",
]


class ScenarioError(ValueError):
    """A scenario file that cannot describe a world; the message names the offending item."""


class LogKind(StrEnum):
    RFC6962 = "rfc6962"
    STATIC = "static"


@dataclass(frozen=True, slots=True)
class Owner:
    name: str
    slug: str  # host label: crl.<slug>.example
    subordinate_owners: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CaSpec:
    """A root (parent None), an intermediate, or a cross-sign (`cross_of` names the subject CA:
    a root, or an intermediate whose profile the cross-sign then carries)."""

    id: str
    owner: str
    subordinate_owner: str | None
    common_name: str
    parent: str | None
    not_before: datetime
    not_after: datetime
    ocsp_signing: bool = False
    ocsp_nocheck: bool = False
    permitted_dns: tuple[str, ...] = ()  # name constraints: a technically constrained sub-CA
    reissued_at: tuple[datetime, ...] = ()  # same subject, key and parent, new serial and notBefore
    cross_of: str | None = None
    leaves: int = 0
    precerts: int = 0
    logs: tuple[str, ...] = ()  # empty: every log
    leaves_from: datetime | None = None  # no leaves or precertificates issued before it
    leaves_until: datetime | None = None  # ... nor at or after it
    leaf_validity_days: int | None = None  # None: the scenario's
    final_certs: bool = False  # every precertificate is also logged as its final certificate

    @property
    def host_slug_owner(self) -> str:
        return self.subordinate_owner or self.owner


@dataclass(frozen=True, slots=True)
class LogSpec:
    name: str
    operator: str
    kind: LogKind
    temporal_start: datetime | None
    temporal_end: datetime | None
    mmd_s: int
    max_batch: int
    state: str
    present_sth: str  # "last_entry" or "now": timestamp of the head served without an as-of
    faults: tuple[Fault, ...] = ()

    def accepts_not_after(self, not_after: datetime) -> bool:
        """RFC 6962 sharding: a log accepts certificates whose notAfter is inside its interval."""
        if self.temporal_start is not None and not_after < self.temporal_start:
            return False
        return self.temporal_end is None or not_after < self.temporal_end


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    seed: int
    start: datetime
    end: datetime
    leaf_validity_days: int
    host: str
    port: int
    owners: tuple[Owner, ...]
    cas: tuple[CaSpec, ...]  # roots, cross-signs, intermediates in file order; issuers moved first
    logs: tuple[LogSpec, ...]
    source_sha256: str  # of the file's bytes: the world cache key with the seed
    extra: dict[str, Any] = field(default_factory=dict)  # the other tables: revocations, test expectations

    def owner(self, name: str) -> Owner:
        for owner in self.owners:
            if owner.name == name or name in owner.subordinate_owners:
                return owner
        raise ScenarioError(f"unknown owner {name!r}")

    def owner_slug(self, name: str) -> str:
        owner = self.owner(name)
        return owner.slug if owner.name == name else slugify(name)

    def ca(self, ca_id: str) -> CaSpec:
        for ca in self.cas:
            if ca.id == ca_id:
                return ca
        raise ScenarioError(f"unknown CA id {ca_id!r}")

    def leaf_validity_days_of(self, ca: CaSpec) -> int:
        return self.leaf_validity_days if ca.leaf_validity_days is None else ca.leaf_validity_days

    def log(self, name: str) -> LogSpec:
        for log in self.logs:
            if log.name == name:
                return log
        raise ScenarioError(f"unknown log {name!r}")


_KNOWN_TABLES = {"scenario", "network", "owners", "roots", "intermediates", "cross_signs", "logs"}


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "owner"


def to_time(value: object, where: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ScenarioError(f"{where}: expected a TOML date or date-time, got {value!r}")


def optional_time(value: object, where: str) -> datetime | None:
    return None if value is None else to_time(value, where)


def required(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ScenarioError(f"{where}: missing {key!r}")
    return table[key]


def parse_fault(table: dict[str, Any], where: str) -> Fault:
    try:
        kind = FaultKind(required(table, "kind", where))
    except ValueError as exc:
        raise ScenarioError(f"{where}: unknown fault kind {table.get('kind')!r}") from exc
    endpoints = frozenset(table.get("endpoints", ()))
    unknown = endpoints - FAULT_ENDPOINTS[kind]
    if unknown:
        raise ScenarioError(f"{where}: fault {kind} does not apply to {sorted(unknown)}")
    fault = Fault(
        kind=kind,
        first=int(table.get("first", 0)),
        every=int(table.get("every", 0)),
        endpoints=endpoints,
        retry_after_s=int(table.get("retry_after_s", 1)),
        status=int(table.get("status", 503)),
        entries=int(table.get("entries", 1)),
        bytes_per_second=int(table.get("bytes_per_second", 0)),
    )
    if fault.first <= 0 and fault.every <= 0:
        raise ScenarioError(f"{where}: a fault needs `first` or `every` > 0")
    return fault


# A cross-sign shares its subject's key and issues nothing under its own id.
_NOT_IN_CROSS_SIGNS = (
    "leaves",
    "precerts",
    "leaves_from",
    "leaves_until",
    "leaf_validity_days",
    "final_certs",
)


def _ca_specs(doc: dict[str, Any]) -> list[CaSpec]:
    specs: list[CaSpec] = []
    for kind in ("roots", "cross_signs", "intermediates"):
        for pos, table in enumerate(doc.get(kind, [])):
            where = f"{kind}[{pos}]"
            base_id = str(required(table, "id", where))
            if kind == "cross_signs":
                misplaced = [key for key in _NOT_IN_CROSS_SIGNS if key in table]
                if misplaced:
                    raise ScenarioError(
                        f"cross-sign {base_id!r}: {', '.join(misplaced)} not allowed (it issues no leaves)"
                    )
            count = int(table.get("count", 1))
            for number in range(1, count + 1):
                ca_id = base_id if count == 1 else f"{base_id}-{number}"
                cn = str(table.get("common_name", base_id))
                common_name = cn if count == 1 else f"{cn} {number}"
                parent = None if kind == "roots" else str(required(table, "issuer", where))
                cross_of = str(required(table, "subject", where)) if kind == "cross_signs" else None
                specs.append(
                    CaSpec(
                        id=ca_id,
                        owner=str(required(table, "owner", where)),
                        subordinate_owner=table.get("subordinate_owner"),
                        common_name=common_name,
                        parent=parent,
                        not_before=to_time(required(table, "not_before", where), where),
                        not_after=to_time(required(table, "not_after", where), where),
                        ocsp_signing=bool(table.get("ocsp_signing", False)),
                        ocsp_nocheck=bool(table.get("ocsp_nocheck", False)),
                        permitted_dns=tuple(table.get("permitted_dns", ())),
                        reissued_at=tuple(to_time(t, where) for t in table.get("reissued_at", ())),
                        cross_of=cross_of,
                        leaves=int(table.get("leaves", 0)),
                        precerts=int(table.get("precerts", 0)),
                        logs=tuple(table.get("logs", ())),
                        leaves_from=optional_time(table.get("leaves_from"), f"{where}.leaves_from"),
                        leaves_until=optional_time(table.get("leaves_until"), f"{where}.leaves_until"),
                        leaf_validity_days=(
                            int(table["leaf_validity_days"]) if "leaf_validity_days" in table else None
                        ),
                        final_certs=bool(table.get("final_certs", False)),
                    )
                )
    return specs


def _issuers_first(specs: list[CaSpec]) -> list[CaSpec]:
    """File order, except that a CA comes after its issuer (tables may name issuers defined further
    down, or in a later table). A scenario already in that order keeps it exactly, and so its
    world. CAs whose issuer never turns up stay at the end for `_check_references` to report."""
    ordered: list[CaSpec] = []
    placed: set[str] = set()
    pending = list(specs)
    progress = True
    while pending and progress:
        progress = False
        waiting = []
        for spec in pending:
            if spec.parent is None or spec.parent in placed:
                ordered.append(spec)
                placed.add(spec.id)
                progress = True
            else:
                waiting.append(spec)
        pending = waiting
    return ordered + pending


def _with_cross_sign_profiles(specs: list[CaSpec]) -> list[CaSpec]:
    """A cross-sign of an intermediate carries that intermediate's profile (EKUs, OCSP nocheck,
    name constraints); a cross-sign of a root keeps the root profile."""
    by_id = {spec.id: spec for spec in specs}
    out = []
    for spec in specs:
        subject = by_id.get(spec.cross_of) if spec.cross_of is not None else None
        if subject is None or subject.parent is None:
            out.append(spec)
            continue
        out.append(
            replace(
                spec,
                ocsp_signing=subject.ocsp_signing,
                ocsp_nocheck=subject.ocsp_nocheck,
                permitted_dns=subject.permitted_dns,
            )
        )
    return out


def _log_specs(doc: dict[str, Any]) -> list[LogSpec]:
    logs: list[LogSpec] = []
    for pos, table in enumerate(doc.get("logs", [])):
        where = f"logs[{pos}]"
        try:
            kind = LogKind(table.get("kind", "rfc6962"))
        except ValueError as exc:
            raise ScenarioError(f"{where}: kind must be rfc6962 or static") from exc
        present = str(table.get("present_sth", "last_entry"))
        if present not in ("last_entry", "now"):
            raise ScenarioError(f"{where}: present_sth must be 'last_entry' or 'now'")
        logs.append(
            LogSpec(
                name=str(required(table, "name", where)),
                operator=str(table.get("operator", "Simulated Operator")),
                kind=kind,
                temporal_start=optional_time(table.get("temporal_start"), where),
                temporal_end=optional_time(table.get("temporal_end"), where),
                mmd_s=int(table.get("mmd_s", 86400)),
                max_batch=int(table.get("max_batch", 256)),
                state=str(table.get("state", "usable")),
                present_sth=present,
                faults=tuple(
                    parse_fault(f, f"{where}.faults[{i}]") for i, f in enumerate(table.get("faults", []))
                ),
            )
        )
    return logs


def _check_references(scenario: Scenario) -> None:
    ids = [ca.id for ca in scenario.cas]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ScenarioError(f"duplicate CA ids: {sorted(duplicates)}")
    names = [log.name for log in scenario.logs]
    bad_names = [n for n in names if not re.fullmatch(r"[A-Za-z0-9_.-]+", n)]
    if len(set(names)) != len(names) or bad_names:
        raise ScenarioError("log names must be unique and use only letters, digits, '.', '_' and '-'")
    if not scenario.start < scenario.end:
        raise ScenarioError("scenario.start must be before scenario.end")
    # Subjects of cross-signs: CAs with a key of their own (not cross-signs themselves).
    subjects = {ca.id for ca in scenario.cas if ca.cross_of is None}
    seen: set[str] = set()
    for ca in scenario.cas:
        scenario.owner(ca.owner)
        if ca.subordinate_owner is not None:
            scenario.owner(ca.subordinate_owner)
        if ca.parent is not None and ca.parent not in seen:
            raise ScenarioError(
                f"CA {ca.id!r}: issuer {ca.parent!r} is not a CA id of the scenario (or issuers form a cycle)"
            )
        if ca.cross_of is not None and ca.cross_of not in subjects:
            raise ScenarioError(
                f"cross-sign {ca.id!r}: subject {ca.cross_of!r} is not a root or intermediate id"
            )
        for log_name in ca.logs:
            scenario.log(log_name)
        if ca.not_after.year >= 2050:
            raise ScenarioError(f"CA {ca.id!r}: notAfter must be before 2050 (UTCTime templates)")
        if ca.leaves_from is not None:
            last = min(scenario.end, ca.not_after)
            if not scenario.start <= ca.leaves_from < last:
                raise ScenarioError(
                    f"CA {ca.id!r}: leaves_from {ca.leaves_from.isoformat()} is outside the period it can"
                    f" issue in, [{scenario.start.isoformat()}, {last.isoformat()})"
                )
        if ca.leaves_until is not None:
            first = max(scenario.start, ca.not_before, ca.leaves_from or scenario.start)
            if not first < ca.leaves_until:
                raise ScenarioError(
                    f"CA {ca.id!r}: leaves_until {ca.leaves_until.isoformat()} is not after the start of"
                    f" its issuance, {first.isoformat()}"
                )
        if ca.leaf_validity_days is not None and ca.leaf_validity_days < 1:
            raise ScenarioError(f"CA {ca.id!r}: leaf_validity_days must be at least 1")
        seen.add(ca.id)


def parse_scenario(text: str) -> Scenario:
    """A Scenario from TOML text; raises ScenarioError with the offending item."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not TOML: {exc}") from exc
    head = required(doc, "scenario", "file")
    network = doc.get("network", {})
    owners = tuple(
        Owner(
            name=str(required(t, "name", f"owners[{i}]")),
            slug=str(t.get("slug") or slugify(str(t["name"]))),
            subordinate_owners=tuple(t.get("subordinate_owners", ())),
        )
        for i, t in enumerate(doc.get("owners", []))
    )
    scenario = Scenario(
        name=str(head.get("name", "unnamed")),
        seed=int(required(head, "seed", "scenario")),
        start=to_time(required(head, "start", "scenario"), "scenario.start"),
        end=to_time(required(head, "end", "scenario"), "scenario.end"),
        leaf_validity_days=int(head.get("leaf_validity_days", 90)),
        host=str(network.get("host", "127.0.0.1")),
        port=int(network.get("port", 0)),
        owners=owners,
        cas=tuple(_with_cross_sign_profiles(_issuers_first(_ca_specs(doc)))),
        logs=tuple(_log_specs(doc)),
        source_sha256=hashlib.sha256(text.encode()).hexdigest(),
        extra={k: v for k, v in doc.items() if k not in _KNOWN_TABLES},
    )
    _check_references(scenario)
    return scenario


def load_scenario(path: Path) -> Scenario:
    """Read and parse a scenario file; raises ScenarioError (also for an unreadable file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return parse_scenario(text)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
