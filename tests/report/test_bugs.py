"""Linked bugs from the warehouse as of a time: comments created or first observed later are
hidden, and what was stored later does not change an earlier as-of's answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ctwatch import warehouse
from ctwatch.evidence.bugzilla import Bug, BugComment
from ctwatch.report.bugs import Gap, LinkedBug, Rhythm, linked_bugs
from ctwatch.warehouse import observations
from tests.evaluate.conftest import utc

OWNER = "Example Trust"
ASSIGNEE = "ca-rep@example.org"


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = warehouse.connect(tmp_path / "w.duckdb")
    yield connection
    connection.close()


def _search(
    con: duckdb.DuckDBPyConnection, at: datetime, last_change: datetime, status: str = "ASSIGNED"
) -> None:
    bug = Bug(
        bug_id=7, summary="Example Trust: delayed revocation", whiteboard="[ca-revocation-delay]",
        product="CA Program", component="CA Certificate Compliance", status=status, resolution=None,
        assigned_to=ASSIGNEE, creator=ASSIGNEE, creation_time=utc(2020, 7, 20), last_change_time=last_change,
        revocation_delay_tags=("ca-revocation-delay",), ca_owner=OWNER,
    )  # fmt: skip
    observations.store_bugs(con, [bug], observed_at=at, location="search")


def _comment(count: int, at: datetime) -> BugComment:
    return BugComment(700 + count, 7, count, ASSIGNEE, at, is_private=False)


def _fetch(con: duckdb.DuckDBPyConnection, at: datetime, *comments: BugComment) -> None:
    observations.store_bug_comments(con, 7, comments, [], fetched_at=at, new_since=None, location="comments")


def _linked(con: duckdb.DuckDBPyConnection, as_of: datetime) -> LinkedBug:
    (bug,) = linked_bugs(con, as_of, OWNER, ())
    return bug


@pytest.fixture
def stored(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Filed 07-20; fetched 08-01 (07-20, 07-28) and 08-10 00:00 (08-05, 08-09, and 08-10 00:05: a
    comment made while the live fetch ran); searches at the fetch times."""
    _search(con, utc(2020, 8, 1), utc(2020, 7, 28))
    _search(con, utc(2020, 8, 10), utc(2020, 8, 9))
    _fetch(con, utc(2020, 8, 1), _comment(0, utc(2020, 7, 20)), _comment(1, utc(2020, 7, 28)))
    _fetch(con, utc(2020, 8, 10), _comment(2, utc(2020, 8, 5)), _comment(3, utc(2020, 8, 9)),
           _comment(4, utc(2020, 8, 10, 0, 5)))  # fmt: skip
    return con


def test_comments_created_or_first_observed_after_the_as_of_are_hidden(
    stored: duckdb.DuckDBPyConnection,
) -> None:
    # 08-07: the 08-05 comment exists but ctwatch first saw it on 08-10
    early = _linked(stored, utc(2020, 8, 7))
    assert [c.count for c in early.comments] == [0, 1]
    assert early.comments_fetched_at == utc(2020, 8, 1)
    rhythm = early.rhythm()
    assert isinstance(rhythm, Rhythm)
    assert rhythm.gaps[-1] == Gap(utc(2020, 7, 28), utc(2020, 8, 1), open_ended=True)
    # 08-10 00:00: the comment made at 00:05 is not yet there
    assert [c.count for c in _linked(stored, utc(2020, 8, 10)).comments] == [0, 1, 2, 3]
    assert [c.count for c in _linked(stored, utc(2020, 8, 11)).comments] == [0, 1, 2, 3, 4]


def test_later_evidence_does_not_change_an_earlier_as_of(stored: duckdb.DuckDBPyConnection) -> None:
    before = _linked(stored, utc(2020, 8, 10))
    _search(stored, utc(2020, 8, 30), utc(2020, 8, 29), status="RESOLVED")
    _fetch(stored, utc(2020, 8, 30), _comment(5, utc(2020, 8, 29)))
    assert _linked(stored, utc(2020, 8, 10)) == before
    assert _linked(stored, utc(2020, 8, 10)).rhythm() == before.rhythm()
    after = _linked(stored, utc(2020, 8, 30)).rhythm()
    assert isinstance(after, Rhythm)
    # open last seen 08-10: the updates after it are not counted, the gap ends there
    assert after.checked_until == utc(2020, 8, 10)
    assert after.updates == (utc(2020, 7, 20), utc(2020, 7, 28), utc(2020, 8, 5), utc(2020, 8, 9))
