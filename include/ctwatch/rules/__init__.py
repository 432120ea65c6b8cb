"""Compliance rule registry, zlint-style: one module per rule, file stem == rule id.

`all_rules()` discovers the modules of this package; `evaluate()` runs every rule in force on one
certificate. CATALOG.md beside this file lists them (`python -m ctwatch.rules.catalog`).
"""

from ctwatch.rules._model import (
    Citation,
    CrossCertificateScope,
    DateBasis,
    Finding,
    Rule,
    RuleContext,
    Severity,
)
from ctwatch.rules._registry import RuleRegistryError, all_rules, discover_rules, evaluate, get_rule

__all__ = [
    "Citation",
    "CrossCertificateScope",
    "DateBasis",
    "Finding",
    "Rule",
    "RuleContext",
    "RuleRegistryError",
    "Severity",
    "all_rules",
    "discover_rules",
    "evaluate",
    "get_rule",
]
