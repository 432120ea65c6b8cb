"""Bugzilla comments in the warehouse: one row per comment whatever the re-fetches, the earliest
observation kept, the text kept (and filled in for a comment stored without it), every fetch
recorded, and only complete fetches tell up to when comments are known."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from ctwatch.evidence.bugzilla import Bug, BugComment
from ctwatch.evidence.revocation import RecordError
from ctwatch.warehouse import observations
from ctwatch.warehouse.observations import CommentFetch


def _at(day: int, hour: int = 0) -> datetime:
    return datetime(2020, 8, day, hour, tzinfo=UTC)


def _comment(count: int, day: int, creator: str = "ca-rep@example.org") -> BugComment:
    return BugComment(9000 + count, 90, count, creator, _at(day), is_private=False, text=f"update {count}")


def _store(
    con: duckdb.DuckDBPyConnection, day: int, *comments: BugComment, new_since: datetime | None = None
) -> int:
    return observations.store_bug_comments(
        con, 90, comments, [], fetched_at=_at(day), new_since=new_since, location=f"fetch-{day}"
    )


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    sql = "SELECT comment_id, count, creator, first_observed_at, location FROM bugzilla_comments"
    return con.execute(sql + " ORDER BY comment_id").fetchall()


def test_a_refetch_does_not_duplicate_and_an_earlier_one_keeps_the_first_observation(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert _store(con, 10, _comment(0, 1), _comment(1, 5)) == 2
    assert _store(con, 12, _comment(0, 1), _comment(1, 5), _comment(2, 11)) == 1
    assert _store(con, 12, _comment(2, 11)) == 0  # the same fetch again
    assert _store(con, 6, _comment(0, 1), _comment(1, 5)) == 0  # a backfill of an earlier as-of
    assert _rows(con) == [
        (9000, 0, "ca-rep@example.org", _at(6), "fetch-6"),
        (9001, 1, "ca-rep@example.org", _at(6), "fetch-6"),
        (9002, 2, "ca-rep@example.org", _at(12), "fetch-12"),
    ]
    assert con.execute("SELECT count(*) FROM bugzilla_comment_fetches").fetchone() == (4,)


def test_the_text_is_kept_and_a_comment_stored_without_it_gains_it(con: duckdb.DuckDBPyConnection) -> None:
    _store(con, 10, _comment(0, 1), _comment(1, 5))
    # as a comment fetched before texts were kept
    con.execute("UPDATE bugzilla_comments SET text = NULL WHERE comment_id = 9001")
    assert _store(con, 12, _comment(0, 1), _comment(1, 5)) == 0
    texts = "SELECT comment_id, text, first_observed_at, location FROM bugzilla_comments ORDER BY 1"
    assert con.execute(texts).fetchall() == [
        (9000, "update 0", _at(10), "fetch-10"),
        (9001, "update 1", _at(10), "fetch-10"),  # the first observation stays
    ]


def test_only_complete_fetches_say_up_to_when_comments_are_known(con: duckdb.DuckDBPyConnection) -> None:
    _store(con, 10, _comment(0, 1), _comment(1, 5))
    _store(con, 12, new_since=_at(5))  # nothing new: the newest known stays 08-05
    errors = [RecordError("bug 90 comment 9003", "TypeError: creator must be a non-empty string")]
    observations.store_bug_comments(
        con, 90, [_comment(2, 13)], errors, fetched_at=_at(14), new_since=_at(5), location="fetch-14"
    )
    assert observations.comment_fetches(con, _at(9)) == {}
    assert observations.comment_fetches(con, _at(13)) == {90: CommentFetch(_at(12), _at(5))}
    # the 08-14 fetch had a malformed comment: it is incomplete, its good comment is still kept
    assert observations.comment_fetches(con, _at(20)) == {90: CommentFetch(_at(12), _at(5))}
    assert [r[0] for r in _rows(con)] == [9000, 9001, 9002]
    assert con.execute(
        "SELECT snapshot_id, source, location, record_ref, error, recorded_at FROM revocation_source_errors"
    ).fetchall() == [(None, "bugzilla", "fetch-14", errors[0].record_ref, errors[0].error, _at(14))]
    assert con.execute(
        "SELECT fetched_at, new_since, comments_returned, record_errors, newest_comment_at "
        "FROM bugzilla_comment_fetches ORDER BY fetched_at"
    ).fetchall() == [
        (_at(10), None, 2, 0, _at(5)),
        (_at(12), _at(5), 0, 0, _at(5)),
        (_at(14), _at(5), 1, 1, _at(13)),
    ]


def test_searches_keep_the_assignee_and_the_reporter(con: duckdb.DuckDBPyConnection) -> None:
    bug = Bug(
        bug_id=90, summary="x", whiteboard="", product=None, component=None, status="NEW", resolution=None,
        assigned_to="ca-rep@example.org", creator="reporter@example.org", creation_time=_at(1),
        last_change_time=None, revocation_delay_tags=(), ca_owner=None,
    )  # fmt: skip
    observations.store_bugs(con, [bug], observed_at=_at(2), location="search")
    assert con.execute("SELECT assigned_to, creator FROM bugzilla_bugs").fetchall() == [
        ("ca-rep@example.org", "reporter@example.org")
    ]
