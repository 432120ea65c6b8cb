"""The evaluator's configuration file (TOML): declared incidents, polling intervals, key destruction.

Format (the packaged default is `incidents.toml` beside this module; times are TOML date-times,
a date alone means 00:00 UTC):

```toml
[polling_interval_hours]      # how often ctwatch polls each source it watches itself
crl = 4
ocsp = 4

[[incidents]]
id = "ocsp-eku-2020"          # names the incidents: "<id>:<CA owner>"
rule = "e_ca_ocsp_signing_eku_without_nocheck"   # and/or certificates = ["<der_sha256>", ...]
clock_start = 2020-07-01
clock_source = "public disclosure (m.d.s.p, Ryan Sleevi)"
window_kind = "subordinate_ca"                   # or "subscriber" (24 h / 5 days by `reason`)
reason = "not_issued_per_requirements"           # ctwatch.policy.RevocationReason value
trust_scope = "any"           # default: covers what it names whatever the trust scope;
                              # "root_store": only chains reaching a root a store includes
bugs = [1652610]              # linked Bugzilla bugs (their filing time can start the clock earlier)
key_destruction_required = true   # default: true for the OCSP-EKU rules
planned_revocations = { "<der_sha256>" = 2021-03-09 }  # dates the CA announced

[[key_destructions]]          # attestations, loaded into key_destruction_attestations
spki_sha256 = "..."
destroyed_at = 2021-03-31
auditor = "..."
link = "https://..."
```

A malformed file raises `ConfigError` naming the entry: configuration is staff input, read before
any evaluation starts.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Final

from ctwatch.policy import RevocationReason, WindowKind

# Rules whose certificates can sign OCSP answers for their siblings and themselves: revocation
# alone does not end the danger, the key must be destroyed (domain spec 1.5).
KEY_DESTRUCTION_RULES: Final = frozenset(
    {"e_ca_ocsp_signing_eku_without_nocheck", "e_sub_ca_ocsp_signing_eku"}
)
DEFAULT_POLLING_INTERVAL: Final = timedelta(hours=4)
_SHA256_LENGTH: Final = 64


class ConfigError(ValueError):
    """The configuration file is malformed; the message names the entry."""


class TrustScope:
    ANY: Final = "any"
    ROOT_STORE: Final = "root_store"


@dataclass(frozen=True, slots=True)
class DeclaredIncident:
    incident_key: str
    rule_id: str | None
    certificates: frozenset[str]
    clock_start: datetime
    clock_source: str
    window_kind: WindowKind
    reason: RevocationReason | None
    trust_scope: str
    bug_ids: tuple[int, ...]
    key_destruction_required: bool
    planned_revocations: Mapping[str, datetime] = field(default_factory=dict)

    def names(self, der_sha256: str, rule_id: str | None) -> bool:
        return der_sha256 in self.certificates or (rule_id is not None and rule_id == self.rule_id)


@dataclass(frozen=True, slots=True)
class KeyDestruction:
    spki_sha256: str
    destroyed_at: datetime
    auditor: str
    link: str


@dataclass(frozen=True, slots=True)
class EvaluationConfig:
    incidents: tuple[DeclaredIncident, ...]
    polling_intervals: Mapping[str, timedelta]
    key_destructions: tuple[KeyDestruction, ...]
    sha256: str  # of the file's bytes: recorded with every run

    def polling_interval(self, source: str) -> timedelta:
        return self.polling_intervals.get(source, DEFAULT_POLLING_INTERVAL)


def _utc(value: object, where: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ConfigError(f"{where}: expected a TOML date or date-time, got {value!r}")


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key!r} must be a non-empty string")
    return value


def _sha256(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) != _SHA256_LENGTH:
        raise ConfigError(f"{where}: expected 64 hex digits, got {value!r}")
    try:
        int(value, 16)
    except ValueError:
        raise ConfigError(f"{where}: expected 64 hex digits, got {value!r}") from None
    return value.lower()


def _incident(table: Mapping[str, Any], where: str) -> DeclaredIncident:
    key = _text(table, "id", where)
    if ":" in key or "|" in key:
        raise ConfigError(f"{where}: id must not contain ':' or '|'")
    rule_id = table.get("rule")
    if rule_id is not None and not isinstance(rule_id, str):
        raise ConfigError(f"{where}: rule must be a string")
    certificates = frozenset(_sha256(v, f"{where}.certificates") for v in table.get("certificates", []))
    if rule_id is None and not certificates:
        raise ConfigError(f"{where}: name a rule, certificates, or both")
    try:
        window_kind = WindowKind(table.get("window_kind", WindowKind.SUBORDINATE_CA.value))
        reason_text = table.get("reason")
        reason = RevocationReason(reason_text) if reason_text is not None else None
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    trust_scope = table.get("trust_scope", TrustScope.ANY)
    if trust_scope not in (TrustScope.ANY, TrustScope.ROOT_STORE):
        raise ConfigError(f"{where}: trust_scope must be 'any' or 'root_store'")
    bugs = table.get("bugs", [])
    if not isinstance(bugs, list) or not all(isinstance(b, int) for b in bugs):
        raise ConfigError(f"{where}: bugs must be a list of bug numbers")
    destruction = table.get("key_destruction_required", rule_id in KEY_DESTRUCTION_RULES)
    if not isinstance(destruction, bool):
        raise ConfigError(f"{where}: key_destruction_required must be true or false")
    planned = table.get("planned_revocations", {})
    if not isinstance(planned, dict):
        raise ConfigError(f"{where}: planned_revocations must be a table of sha256 = date")
    return DeclaredIncident(
        incident_key=key,
        rule_id=rule_id,
        certificates=certificates,
        clock_start=_utc(table.get("clock_start"), f"{where}.clock_start"),
        clock_source=_text(table, "clock_source", where),
        window_kind=window_kind,
        reason=reason,
        trust_scope=trust_scope,
        bug_ids=tuple(bugs),
        key_destruction_required=destruction,
        planned_revocations={
            _sha256(k, f"{where}.planned_revocations"): _utc(v, f"{where}.planned_revocations.{k}")
            for k, v in planned.items()
        },
    )


def parse_config(data: bytes) -> EvaluationConfig:
    """Parse the TOML bytes of a configuration file."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"not a TOML file: {exc}") from None
    intervals: dict[str, timedelta] = {}
    for source, hours in doc.get("polling_interval_hours", {}).items():
        if not isinstance(hours, int | float) or isinstance(hours, bool) or hours < 0:
            raise ConfigError(f"polling_interval_hours.{source}: expected a number of hours >= 0")
        intervals[source] = timedelta(hours=hours)
    incidents = tuple(_incident(t, f"incidents[{n}]") for n, t in enumerate(doc.get("incidents", [])))
    keys = [i.incident_key for i in incidents]
    if len(set(keys)) != len(keys):
        raise ConfigError("two declared incidents share an id")
    destructions = tuple(
        KeyDestruction(
            spki_sha256=_sha256(t.get("spki_sha256"), f"key_destructions[{n}].spki_sha256"),
            destroyed_at=_utc(t.get("destroyed_at"), f"key_destructions[{n}].destroyed_at"),
            auditor=_text(t, "auditor", f"key_destructions[{n}]"),
            link=_text(t, "link", f"key_destructions[{n}]"),
        )
        for n, t in enumerate(doc.get("key_destructions", []))
    )
    return EvaluationConfig(
        incidents=incidents,
        polling_intervals=intervals,
        key_destructions=destructions,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def load_config(path: Path | None = None) -> EvaluationConfig:
    """Read `path`, or the packaged default (`incidents.toml`) when None."""
    if path is None:
        data = resources.files("ctwatch.evaluate").joinpath("incidents.toml").read_bytes()
    else:
        data = path.read_bytes()
    return parse_config(data)
