"""Declared incidents and key-destruction attestations: the `[[incidents]]` and
`[[key_destructions]]` tables of ctwatch.toml (docs/incidents.md has the format for users).

```toml
[[incidents]]
id = "ocsp-eku-2020"          # names the incidents: "<id>:<CA owner>"
rule = "e_ca_ocsp_signing_eku_without_nocheck"   # and/or certificates = ["<der_sha256>", ...]
ca_owner = "SECOM Trust Systems"                 # optional: only this owner's certificates
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

Every problem is reported, one line each naming the entry, the key, the value and what is expected:
declarations are staff input, read before any evaluation starts, and a typo must not silently
change a verdict.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final

from ctwatch.evaluate.declaration_table import DeclarationTable
from ctwatch.evaluate.plans import DeclaredPlan, parse_plan
from ctwatch.policy import RevocationReason, WindowKind

# Rules whose certificates can sign OCSP answers for their siblings and themselves: revocation
# alone does not end the danger, the key must be destroyed (RFC 6960 4.2.2.2).
KEY_DESTRUCTION_RULES: Final = frozenset(
    {"e_ca_ocsp_signing_eku_without_nocheck", "e_sub_ca_ocsp_signing_eku"}
)
_INCIDENT_KEYS: Final = frozenset(
    {
        "id", "rule", "certificates", "clock_start", "clock_source", "window_kind", "reason",
        "trust_scope", "bugs", "key_destruction_required", "planned_revocations", "ca_owner",
    }
)  # fmt: skip
_DESTRUCTION_KEYS: Final = frozenset({"spki_sha256", "destroyed_at", "recorded_at", "auditor", "link"})
_TOP_LEVEL_KEYS: Final = frozenset({"incidents", "key_destructions", "plans"})


class ConfigError(ValueError):
    """The configuration is malformed: one line per problem, each naming the field, the value and
    what is expected."""

    def __init__(self, problems: list[str] | tuple[str, ...] | str) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


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
    ca_owner: str | None = None  # None: CCADB's owner of each certificate

    def names(self, der_sha256: str, rule_id: str | None) -> bool:
        return der_sha256 in self.certificates or (rule_id is not None and rule_id == self.rule_id)

    def owns(self, ccadb_owner: str | None) -> bool:
        """Whether a certificate CCADB attributes to `ccadb_owner` (None: not in CCADB) can be part
        of this incident: with `ca_owner` declared, only that owner's and those CCADB does not know."""
        return self.ca_owner is None or ccadb_owner is None or ccadb_owner == self.ca_owner


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
    sha256: str  # of the declarations: recorded with every run
    plans: tuple[DeclaredPlan, ...] = ()


def _incident(table: DeclarationTable) -> DeclaredIncident | None:
    table.unknown_keys(_INCIDENT_KEYS)
    before = len(table.problems)
    key = table.text("id", '"ocsp-eku-2020"')
    if key is not None and (":" in key or "|" in key):
        table.problem("id", key, "an id without ':' or '|'")
    rule_id = table.text("rule", '"e_ca_ocsp_signing_eku_without_nocheck"', required=False)
    listed = table.table.get("certificates", [])
    if not isinstance(listed, list):
        table.problem("certificates", listed, "a list of SHA-256 fingerprints")
        listed = []
    certificates = frozenset(filter(None, (table.sha256("certificates", v) for v in listed)))
    if rule_id is None and not listed and "rule" not in table.table:
        table.problems.append(f"{table.where}: name a rule, certificates, or both")
    if listed and "window_kind" not in table.table:
        table.problems.append(
            f"{table.where}.window_kind is missing: it is required when certificates are listed "
            f"({', '.join(repr(str(k)) for k in WindowKind)})"
        )
    window_kind = table.choice("window_kind", WindowKind)
    reason = table.choice("reason", RevocationReason)
    trust_scope = table.choice("trust_scope", TrustScope, TrustScope.ANY)
    bugs = table.table.get("bugs", [])
    if not isinstance(bugs, list) or not all(isinstance(b, int) and not isinstance(b, bool) for b in bugs):
        table.problem("bugs", bugs, "a list of bug numbers, e.g. [1652610]")
        bugs = []
    destruction = table.table.get("key_destruction_required", rule_id in KEY_DESTRUCTION_RULES)
    if not isinstance(destruction, bool):
        table.problem("key_destruction_required", destruction, "true or false")
    planned = table.table.get("planned_revocations", {})
    if not isinstance(planned, dict):
        table.problem("planned_revocations", planned, 'a table of "<der_sha256>" = date')
        planned = {}
    planned_revocations = {
        sha: moment
        for k, v in planned.items()
        if (sha := table.sha256("planned_revocations", k))
        and (moment := table.day_or_instant(f"planned_revocations.{k}", v))
    }
    ca_owner = table.text("ca_owner", '"SECOM Trust Systems"', required=False)
    clock_start = table.instant("clock_start")
    clock_source = table.text("clock_source", '"public disclosure (m.d.s.p)"')
    if len(table.problems) > before or key is None or clock_start is None or clock_source is None:
        return None
    return DeclaredIncident(
        incident_key=key,
        rule_id=rule_id,
        certificates=certificates,
        clock_start=clock_start,
        clock_source=clock_source,
        window_kind=window_kind,
        reason=reason,
        trust_scope=trust_scope,
        bug_ids=tuple(bugs),
        key_destruction_required=bool(destruction),
        planned_revocations=planned_revocations,
        ca_owner=ca_owner,
    )


def _key_destruction(table: DeclarationTable) -> KeyDestruction | None:
    table.unknown_keys(_DESTRUCTION_KEYS)
    before = len(table.problems)
    spki = table.sha256("spki_sha256", table.table.get("spki_sha256"))
    destroyed_value = table.required("destroyed_at", "a date like 2021-03-31")
    destroyed_at = (
        table.day_or_instant("destroyed_at", destroyed_value) if destroyed_value is not None else None
    )
    auditor = table.text("auditor", '"Auditor KK"')
    link = table.text("link", '"https://bugzilla.mozilla.org/show_bug.cgi?id=1652610#c42"')
    recorded_at = table.instant("recorded_at")
    if len(table.problems) > before or None in (spki, destroyed_at, auditor, link, recorded_at):
        return None
    return KeyDestruction(spki, destroyed_at, auditor, link, recorded_at)  # type: ignore[arg-type]


def parse_declarations(
    document: Mapping[str, Any], problems: list[str], *, where: str = ""
) -> EvaluationConfig:
    """The `[[incidents]]`, `[[key_destructions]]` and `[[plans]]` arrays of a TOML document; the
    problems found are appended to `problems` (the entries with a problem are left out)."""
    incidents: list[DeclaredIncident] = []
    destructions: list[KeyDestruction] = []
    plan_tables: list[DeclarationTable] = []
    for name in ("incidents", "key_destructions", "plans"):
        tables = document.get(name, [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            problems.append(f"{where}{name}: expected an array of tables ([[{name}]])")
            continue
        for number, table in enumerate(tables):
            reader = DeclarationTable(table, f"{where}{name}[{number}]", problems)
            if name == "incidents" and (incident := _incident(reader)) is not None:
                incidents.append(incident)
            elif name == "key_destructions" and (destruction := _key_destruction(reader)) is not None:
                destructions.append(destruction)
            elif name == "plans":
                plan_tables.append(reader)
    keys = [i.incident_key for i in incidents]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"{where}incidents: two declared incidents share the id {key!r}")
    plans = [p for t in plan_tables if (p := parse_plan(t, frozenset(keys))) is not None]
    versions = [(p.incident_id, p.announced_at) for p in plans]
    for incident_id, announced_at in sorted({v for v in versions if versions.count(v) > 1}):
        problems.append(
            f"{where}plans: two versions of {incident_id!r}'s plan announced at {announced_at.isoformat()}"
        )
    declared = [document.get(name, []) for name in ("incidents", "key_destructions")]
    if document.get("plans"):
        declared.append(document["plans"])  # declarations without plans keep their earlier hash
    canonical = json.dumps(declared, sort_keys=True, default=str)
    return EvaluationConfig(
        incidents=tuple(incidents),
        key_destructions=tuple(destructions),
        sha256=hashlib.sha256(canonical.encode()).hexdigest(),
        plans=tuple(plans),
    )


def toml_document(text: str) -> dict[str, Any]:
    """`tomllib.loads`, plus the TOML rule tomllib does not enforce: integers are 64-bit (a longer one
    cannot even be shown in an error line: str() refuses more than 4300 digits). ValueError
    (TOMLDecodeError among them) or RecursionError when `text` is no TOML document."""
    document = tomllib.loads(text)
    _check_integers(document)
    return document


def _check_integers(value: object) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _check_integers(item)
    elif isinstance(value, list):
        for item in value:
            _check_integers(item)
    elif isinstance(value, int) and not -(1 << 63) <= value < 1 << 63:
        raise ValueError(f"an integer of {value.bit_length()} bits: TOML integers are 64-bit")


def parse_config(data: bytes) -> EvaluationConfig:
    """Parse a TOML document of declarations (`[[incidents]]`, `[[key_destructions]]`); ConfigError
    with one line per problem."""
    try:
        doc = toml_document(data.decode("utf-8"))
    except ValueError as exc:  # also UnicodeDecodeError, TOMLDecodeError, a 5000-digit integer
        raise ConfigError(f"not a TOML file: {exc}") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ConfigError("not a TOML file: arrays or tables nested too deep") from None
    problems: list[str] = []
    if "polling_interval_hours" in doc:
        problems.append(
            "polling_interval_hours is not read: publication is judged from ctwatch's own "
            "observations of the CA's CRL and OCSP; remove the table"
        )
    problems += [
        f"unknown key {key!r} (known: {', '.join(sorted(_TOP_LEVEL_KEYS))})"
        for key in sorted(set(doc) - _TOP_LEVEL_KEYS - {"polling_interval_hours"})
    ]
    config = parse_declarations(doc, problems)
    if problems:
        raise ConfigError(problems)
    return config


def load_config(path: Path | None = None) -> EvaluationConfig:
    """Read `path`, or the packaged default (`incidents.toml`) when None."""
    if path is None:
        data = resources.files("ctwatch.evaluate").joinpath("incidents.toml").read_bytes()
    else:
        data = path.read_bytes()
    return parse_config(data)
