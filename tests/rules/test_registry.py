"""Rule discovery, metadata completeness and the generated catalog."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

import ctwatch.rules
from ctwatch.rules import (
    Citation,
    DateBasis,
    Rule,
    RuleRegistryError,
    Severity,
    all_rules,
    catalog,
    discover_rules,
    get_rule,
)
from ctwatch.x509.model import CertKind

RULES_DIR = Path(ctwatch.rules.__file__).parent
EXPECTED_IDS = {
    "e_ca_ocsp_signing_eku_without_nocheck",
    "e_ocsp_responder_missing_nocheck",
    "e_sub_ca_ocsp_signing_eku",
    "e_sub_cert_ocsp_signing_eku",
    "w_ca_ocsp_signing_eku_with_nocheck",
    "w_cross_ca_ocsp_signing_eku",
}
RULE_MODULE = """
from datetime import date
from ctwatch.rules import Citation, DateBasis, Rule, Severity
from ctwatch.x509.model import CertKind

RULE = Rule(
    id={rule_id!r}, description="d", severity=Severity.NOTICE, citation=Citation("doc", "1", "1"),
    source="test", effective=date(2020, 1, 1), ineffective=None, date_basis=DateBasis.NOT_BEFORE,
    applies_to=frozenset({{CertKind.ROOT}}), check=lambda cert, context: None,
)
"""


def test_all_rules_are_sorted_and_include_the_ocsp_set():
    ids = [rule.id for rule in all_rules()]
    assert ids == sorted(ids)
    assert set(ids) >= EXPECTED_IDS
    assert get_rule("e_sub_cert_ocsp_signing_eku").severity is Severity.ERROR
    with pytest.raises(KeyError):
        get_rule("e_no_such_rule")


def test_every_rule_file_is_a_rule_named_after_its_stem():
    stems = {
        path.stem
        for path in RULES_DIR.glob("*.py")
        if not path.stem.startswith("_") and path.stem not in {"catalog", "documents"}
    }
    assert stems == {rule.id for rule in all_rules()}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.id)
def test_rule_metadata_is_complete(rule):
    prefix = {Severity.ERROR: "e_", Severity.WARNING: "w_", Severity.NOTICE: "n_"}[rule.severity]
    assert rule.id.startswith(prefix)
    assert rule.description.strip()
    assert rule.source.strip()
    assert rule.citation.document.strip()
    assert rule.citation.version.strip()
    assert rule.citation.section.strip()
    assert isinstance(rule.effective, date)
    assert rule.ineffective is None or rule.ineffective > rule.effective
    assert rule.applies_to
    assert rule.applies_to <= set(CertKind)
    assert rule.date_basis in set(DateBasis)
    assert rule.metadata_problems() == []


def test_rule_with_incomplete_metadata_cannot_be_built():
    with pytest.raises(ValueError, match="must start with 'w_'"):
        Rule(
            id="e_wrong_prefix",
            description="",
            severity=Severity.WARNING,
            citation=Citation("doc", "", "1"),
            source="test",
            effective=date(2020, 1, 1),
            ineffective=date(2019, 1, 1),
            date_basis=DateBasis.NOT_BEFORE,
            applies_to=frozenset(),
            check=lambda cert, context: None,
        )


@pytest.fixture
def rule_package(tmp_path, monkeypatch):
    """A throw-away rules package on sys.path; returns (package name, its folder)."""
    name = f"ctwatch_test_rules_{tmp_path.name}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "_helpers.py").write_text("NOT_A_RULE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, folder
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[module]


def test_adding_a_file_adds_a_rule(rule_package):
    name, folder = rule_package
    (folder / "n_example.py").write_text(RULE_MODULE.format(rule_id="n_example"))
    assert [rule.id for rule in discover_rules(name)] == ["n_example"]


def test_registry_refuses_a_rule_whose_id_is_not_its_file_stem(rule_package):
    name, folder = rule_package
    (folder / "n_example.py").write_text(RULE_MODULE.format(rule_id="n_other"))
    with pytest.raises(RuleRegistryError, match="must equal the file stem"):
        discover_rules(name)


def test_registry_refuses_a_module_without_rule(rule_package):
    name, folder = rule_package
    (folder / "n_example.py").write_text("X = 1\n")
    with pytest.raises(RuleRegistryError, match="defines no RULE"):
        discover_rules(name)


def test_committed_catalog_equals_the_generated_one():
    assert catalog.CATALOG_PATH.read_text(encoding="utf-8") == catalog.render_catalog(all_rules())
    assert catalog.main(["--check"]) == 0


def test_catalog_check_fails_on_a_stale_file_and_regeneration_fixes_it(tmp_path, monkeypatch):
    stale = tmp_path / "CATALOG.md"
    stale.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(catalog, "CATALOG_PATH", stale)
    assert catalog.main(["--check"]) == 1
    assert catalog.main([]) == 0
    assert catalog.main(["--check"]) == 0
    assert "| `e_ca_ocsp_signing_eku_without_nocheck` | error |" in stale.read_text(encoding="utf-8")
