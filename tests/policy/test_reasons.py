"""CRLReason names and codes, and the BR 7.2.2 allowed set."""

from __future__ import annotations

import pytest

from ctwatch.policy import CRLReason


@pytest.mark.parametrize(
    ("name", "code"),
    [("unspecified", 0), ("keyCompromise", 1), ("cACompromise", 2), ("superseded", 4), ("aACompromise", 10)],
)
def test_rfc_5280_names_and_codes_round_trip(name, code):
    assert CRLReason.from_rfc_name(name) == code
    assert CRLReason(code).rfc_name == name


def test_code_7_is_unused_and_unknown_names_are_refused():
    with pytest.raises(ValueError, match="7"):
        CRLReason(7)
    with pytest.raises(KeyError):
        CRLReason.from_rfc_name("KeyCompromise")
