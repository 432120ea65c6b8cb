"""Rule discovery and evaluation.

Every module of the `ctwatch.rules` package is a rule, except framework modules (a leading
underscore, or a name in FRAMEWORK_MODULES). A rule module defines `RULE: Rule` whose id equals
the module's file stem, so adding a file adds a rule and a misnamed one is refused.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from datetime import datetime

from ctwatch.rules._model import Finding, Rule, RuleContext
from ctwatch.timeutil import require_aware
from ctwatch.x509.model import ParsedCert

RULES_PACKAGE = "ctwatch.rules"
FRAMEWORK_MODULES = frozenset({"catalog", "documents"})


class RuleRegistryError(Exception):
    """A rule module is malformed: a programming error in the rule set, never a data problem."""


def discover_rules(package_name: str) -> tuple[Rule, ...]:
    """Import every rule module of `package_name`; rules sorted by id.

    Raises RuleRegistryError when a module has no `RULE`, or its `RULE.id` differs from the file stem.
    """
    package = importlib.import_module(package_name)
    rules = []
    for module_info in pkgutil.iter_modules(package.__path__):
        stem = module_info.name
        if stem.startswith("_") or stem in FRAMEWORK_MODULES:
            continue
        module = importlib.import_module(f"{package_name}.{stem}")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule):
            raise RuleRegistryError(f"{package_name}.{stem} defines no RULE of type Rule")
        if rule.id != stem:
            raise RuleRegistryError(
                f"{package_name}.{stem} defines RULE.id {rule.id!r}: it must equal the file stem"
            )
        rules.append(rule)
    return tuple(sorted(rules, key=lambda rule: rule.id))


@functools.cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule of ctwatch, sorted by id."""
    return discover_rules(RULES_PACKAGE)


def get_rule(rule_id: str) -> Rule:
    """The rule with this id; KeyError when there is none."""
    for rule in all_rules():
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)


def evaluate(cert: ParsedCert, *, as_of: datetime, context: RuleContext | None = None) -> list[Finding]:
    """Every finding of every rule in force for `cert` at `as_of` (ordered by rule id).

    `as_of` must be timezone-aware (ValueError otherwise): it is the evaluation date of duty rules.
    An expired certificate is still evaluated; what expiry means is the clock's business.
    """
    require_aware(as_of, "as_of")
    context = context or RuleContext()
    findings = []
    for rule in all_rules():
        if not (rule.covers(cert, context) and rule.in_force(cert, as_of)):
            continue
        detail = rule.check(cert, context)
        if detail is not None:
            findings.append(Finding(rule.id, rule.severity, cert.der_sha256, detail))
    return findings
