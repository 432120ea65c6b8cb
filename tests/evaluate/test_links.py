"""Bug links: a listed bug about another CA owner stays out of this owner's incident."""

from __future__ import annotations

from ctwatch.evaluate.links import AUTOMATIC, CONFIGURED, bug_link

SECOM = "SECOM Trust Systems"


def test_a_listed_bug_links_to_its_own_owner_and_to_none_other() -> None:
    assert bug_link(1650910, SECOM, False, owner=SECOM, configured_ids={1650910}) == CONFIGURED
    assert bug_link(1650910, SECOM, True, owner="Sim Sectora", configured_ids={1650910}) is None


def test_a_listed_bug_naming_no_known_owner_links_to_every_owner() -> None:
    assert bug_link(7, None, False, owner=SECOM, configured_ids=[7]) == CONFIGURED
    assert bug_link(7, None, False, owner="Sim Sectora", configured_ids=[7]) == CONFIGURED


def test_an_unlisted_bug_needs_the_same_owner_and_a_delay_tag() -> None:
    assert bug_link(9, SECOM, True, owner=SECOM, configured_ids=()) == AUTOMATIC
    assert bug_link(9, SECOM, False, owner=SECOM, configured_ids=()) is None
    assert bug_link(9, None, True, owner=SECOM, configured_ids=()) is None
