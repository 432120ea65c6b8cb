"""The evaluator's configuration file (TOML): declared incidents and key-destruction attestations.

The format is documented for users in docs/incidents.md; in short:

```toml
[[incidents]]
id = "ocsp-eku-2020"          # names the incidents: "<id>:<CA owner>"
rule = "e_ca_ocsp_signing_eku_without_nocheck"   # and/or certificates = ["<der_sha256>", ...]
clock_start = 2020-07-01T00:00:00Z               # an instant with a time zone; a date alone is refused
clock_source = "public disclosure (m.d.s.p, Ryan Sleevi)"
window_kind = "subordinate_ca"                   # or "subscriber"; required with `certificates`
reason = "not_issued_per_requirements"           # ctwatch.policy.RevocationReason value
trust_scope = "any"           # default; "root_store": only chains reaching a root a store includes
bugs = [1652610]              # Bugzilla bugs of the incident (their filing can start the clock earlier)
key_destruction_required = true   # default: true for the OCSP-EKU rules
planned_revocations = { "<der_sha256>" = 2021-03-09 }  # dates the CA announced

[[key_destructions]]          # attestations, loaded into key_destruction_attestations
spki_sha256 = "..."
destroyed_at = 2021-03-31     # a date means 00:00 UTC
recorded_at = 2021-04-02T09:00:00Z  # when the attestation became known: earlier as-ofs do not see it
auditor = "..."
link = "https://..."
```

A malformed file raises `ConfigError` naming the entry and the key: configuration is staff input,
read before any evaluation starts, and a typo must not silently change a verdict.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final

from ctwatch.policy import RevocationReason, WindowKind

# Rules whose certificates can sign OCSP answers for their siblings and themselves: revocation
# alone does not end the danger, the key must be destroyed (RFC 6960 4.2.2.2).
KEY_DESTRUCTION_RULES: Final = frozenset(
    {"e_ca_ocsp_signing_eku_without_nocheck", "e_sub_ca_ocsp_signing_eku"}
)
_SHA256_LENGTH: Final = 64
_INCIDENT_KEYS: Final = frozenset(
    {
        "id", "rule", "certificates", "clock_start", "clock_source", "window_kind", "reason",
        "trust_scope", "bugs", "key_destruction_required", "planned_revocations",
    }
)  # fmt: skip
_DESTRUCTION_KEYS: Final = frozenset({"spki_sha256", "destroyed_at", "recorded_at", "auditor", "link"})
_TOP_LEVEL_KEYS: Final = frozenset({"incidents", "key_destructions"})
_INSTANT_EXAMPLE: Final = "2020-07-01T17:30:00Z"


class ConfigError(ValueError):
    """The configuration file is malformed; the message names the entry."""


class TrustScope(StrEnum):
    ANY = "any"
    ROOT_STORE = "root_store"


@dataclass(frozen=True, slots=True)
class DeclaredIncident:
    incident_key: str
    rule_id: str | None
    certificates: frozenset[str]
    clock_start: datetime
    clock_source: str
    window_kind: WindowKind | None  # None: each certificate's own kind decides
    reason: RevocationReason | None
    trust_scope: TrustScope
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
    recorded_at: datetime  # when ctwatch learnt of it: an evaluation as of an earlier time ignores it


@dataclass(frozen=True, slots=True)
class EvaluationConfig:
    incidents: tuple[DeclaredIncident, ...]
    key_destructions: tuple[KeyDestruction, ...]
    sha256: str  # of the file's bytes: recorded with every run


def _unknown_keys(table: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")


def _day_or_instant(value: object, where: str) -> datetime:
    """A TOML date (00:00 UTC) or an offset date-time, in UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigError(f"{where}: {value} has no time zone; write it like {_INSTANT_EXAMPLE}")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ConfigError(f"{where}: expected a TOML date or date-time, got {value!r}")


def instant(value: object, where: str) -> datetime:
    """An offset date-time in UTC. A date alone or a time without zone is refused: a clock start
    stands for a moment (a post, a filing), and 00:00 UTC of its day would move deadlines early."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, datetime):
        raise ConfigError(f"{where}: {value} has no time zone; write it like {_INSTANT_EXAMPLE}")
    if isinstance(value, date):
        raise ConfigError(
            f"{where}: {value} is a date; an instant with a time zone is required, e.g. "
            f"{value.isoformat()}T17:30:00Z"
        )
    raise ConfigError(
        f"{where}: expected a date-time with a time zone like {_INSTANT_EXAMPLE}, got {value!r}"
    )


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
    _unknown_keys(table, _INCIDENT_KEYS, where)
    key = _text(table, "id", where)
    if ":" in key or "|" in key:
        raise ConfigError(f"{where}: id must not contain ':' or '|'")
    rule_id = table.get("rule")
    if rule_id is not None and not isinstance(rule_id, str):
        raise ConfigError(f"{where}: rule must be a string")
    listed = table.get("certificates", [])
    if not isinstance(listed, list):
        raise ConfigError(f"{where}: certificates must be a list of SHA-256 fingerprints")
    certificates = frozenset(_sha256(v, f"{where}.certificates") for v in listed)
    if rule_id is None and not certificates:
        raise ConfigError(f"{where}: name a rule, certificates, or both")
    if certificates and "window_kind" not in table:
        raise ConfigError(
            f"{where}: window_kind is required when certificates are listed "
            f"({', '.join(k.value for k in WindowKind)})"
        )
    try:
        kind_text = table.get("window_kind")
        window_kind = WindowKind(kind_text) if kind_text is not None else None
        reason_text = table.get("reason")
        reason = RevocationReason(reason_text) if reason_text is not None else None
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    try:
        trust_scope = TrustScope(table.get("trust_scope", TrustScope.ANY))
    except ValueError:
        raise ConfigError(f"{where}: trust_scope must be 'any' or 'root_store'") from None
    bugs = table.get("bugs", [])
    if not isinstance(bugs, list) or not all(isinstance(b, int) and not isinstance(b, bool) for b in bugs):
        raise ConfigError(f"{where}: bugs must be a list of bug numbers")
    destruction = table.get("key_destruction_required", rule_id in KEY_DESTRUCTION_RULES)
    if not isinstance(destruction, bool):
        raise ConfigError(f"{where}: key_destruction_required must be true or false")
    planned = table.get("planned_revocations", {})
    if not isinstance(planned, dict):
        raise ConfigError(f"{where}: planned_revocations must be a table of sha256 = date")
    if "clock_start" not in table:
        raise ConfigError(f"{where}: clock_start is required, e.g. clock_start = {_INSTANT_EXAMPLE}")
    return DeclaredIncident(
        incident_key=key,
        rule_id=rule_id,
        certificates=certificates,
        clock_start=instant(table["clock_start"], f"{where}.clock_start"),
        clock_source=_text(table, "clock_source", where),
        window_kind=window_kind,
        reason=reason,
        trust_scope=trust_scope,
        bug_ids=tuple(bugs),
        key_destruction_required=destruction,
        planned_revocations={
            _sha256(k, f"{where}.planned_revocations"): _day_or_instant(v, f"{where}.planned_revocations.{k}")
            for k, v in planned.items()
        },
    )


def _key_destruction(table: Mapping[str, Any], where: str) -> KeyDestruction:
    _unknown_keys(table, _DESTRUCTION_KEYS, where)
    if "recorded_at" not in table:
        raise ConfigError(
            f"{where}: recorded_at is required (when the attestation became known), e.g. "
            f"recorded_at = {_INSTANT_EXAMPLE}"
        )
    return KeyDestruction(
        spki_sha256=_sha256(table.get("spki_sha256"), f"{where}.spki_sha256"),
        destroyed_at=_day_or_instant(table.get("destroyed_at"), f"{where}.destroyed_at"),
        auditor=_text(table, "auditor", where),
        link=_text(table, "link", where),
        recorded_at=instant(table["recorded_at"], f"{where}.recorded_at"),
    )


def parse_config(data: bytes) -> EvaluationConfig:
    """Parse the TOML bytes of a configuration file."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"not a TOML file: {exc}") from None
    if "polling_interval_hours" in doc:
        raise ConfigError(
            "polling_interval_hours is not read any more: publication is judged from ctwatch's own "
            "observations of the CA's CRL and OCSP; remove the table"
        )
    _unknown_keys(doc, _TOP_LEVEL_KEYS, "the configuration file")
    incidents = tuple(_incident(t, f"incidents[{n}]") for n, t in enumerate(doc.get("incidents", [])))
    keys = [i.incident_key for i in incidents]
    if len(set(keys)) != len(keys):
        raise ConfigError("two declared incidents share an id")
    destructions = tuple(
        _key_destruction(t, f"key_destructions[{n}]") for n, t in enumerate(doc.get("key_destructions", []))
    )
    return EvaluationConfig(
        incidents=incidents,
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
