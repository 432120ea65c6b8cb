"""Bugzilla comments: the client against the simulator and a fixture server (malformed comments,
unusable bodies), and ingest_bugzilla's incremental comment fetches with the CA's rhythm they show."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.config import settings_from
from ctwatch.evidence.bugzilla import BugComment
from ctwatch.report.bugs import Gap, Rhythm, linked_bugs
from ctwatch.revocation import bugzilla_bugs
from ctwatch.revocation.config import Source
from ctwatch.sim.scenario import Fault, FaultKind
from ctwatch.sim.server import SimulatorRunning
from ctwatch.sources import bugzilla
from ctwatch.sources.http import FetchError, HttpClient, Politeness, RetryPolicy
from ctwatch.warehouse import observations
from tests.evaluate.conftest import ccadb_snapshot
from tests.ingest.conftest import warehouse_rows
from tests.revocation_sources.conftest import sim_locations
from tests.sources.test_http import FakeClocks, FixtureServer

pytestmark = pytest.mark.integration

SECOM_BUG = 1650910  # small.toml: the CA comments weekly (07-10 08:00 to 07-17 08:00: exactly 7 d)
EXAMPLE_BUG = 1651234  # small.toml: 14 d without a CA comment, a root-program comment in between
CA = "ca-representative@sim.example"
ROOT_PROGRAM = "root-program@sim.example"


def _t(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2020, month, day, hour, minute, tzinfo=UTC)


def _client(as_of: datetime | None = None, max_attempts: int = 2) -> HttpClient:
    politeness = Politeness(requests_per_second=float("inf"), timeout_s=5)
    return HttpClient(
        politeness, retry=RetryPolicy(max_attempts=max_attempts), clocks=FakeClocks(), as_of=as_of
    )


@pytest.fixture
def bugzilla_faults(sim: SimulatorRunning) -> Iterator[SimulatorRunning]:
    """The shared simulator; its Bugzilla faults are cleared afterwards."""
    yield sim
    sim.set_faults("bugzilla", [])


def test_comments_as_of_and_new_since(sim: SimulatorRunning) -> None:
    rest_url = sim_locations(sim).url(Source.BUGZILLA)
    client = _client(_t(7, 12))
    comments, errors = bugzilla.fetch_comments(client, rest_url, SECOM_BUG)
    assert errors == []
    assert [(c.comment_id, c.count, c.creator, c.creation_time, c.is_private, c.text) for c in comments] == [
        (165091000, 0, CA, _t(7, 3, 2, 14), False, "Incident report to follow."),
        (165091001, 1, CA, _t(7, 7, 6), False, "Incident report: the JPRS intermediates will be re-issued."),
        (165091002, 2, CA, _t(7, 10, 8), False, "Re-issued certificates under the same key."),
    ]  # small.toml's comments of bug 1650910 by 07-12
    # only comments created after new_since; their number in the bug stays
    newer, _ = bugzilla.fetch_comments(client, rest_url, SECOM_BUG, new_since=_t(7, 7, 6))
    assert [(c.count, c.creation_time) for c in newer] == [(2, _t(7, 10, 8))]
    bugs, _ = bugzilla.search_bugs(
        client, rest_url, product="CA Program", component="CA Certificate Compliance"
    )
    assert {(b.bug_id, b.assigned_to, b.creator) for b in bugs} == {
        (SECOM_BUG, CA, CA), (EXAMPLE_BUG, CA, ROOT_PROGRAM),
    }  # fmt: skip
    with pytest.raises(FetchError) as not_filed:
        bugzilla.fetch_comments(_client(_t(7, 1)), rest_url, EXAMPLE_BUG)
    assert not_filed.value.status == 404


def test_a_truncated_comment_list_is_retried_then_reported(bugzilla_faults: SimulatorRunning) -> None:
    sim = bugzilla_faults
    rest_url = sim_locations(sim).url(Source.BUGZILLA)
    sim.set_faults("bugzilla", [Fault(FaultKind.TRUNCATED_JSON, first=1)])
    comments, _ = bugzilla.fetch_comments(_client(_t(7, 12)), rest_url, SECOM_BUG)
    assert len(comments) == 3  # the second attempt
    sim.set_faults("bugzilla", [Fault(FaultKind.TRUNCATED_JSON, every=1)])
    with pytest.raises(FetchError) as caught:
        bugzilla.fetch_comments(_client(_t(7, 12)), rest_url, SECOM_BUG)
    assert (caught.value.status, caught.value.attempts) == (200, 2)
    assert "not a Bugzilla comment list of bug 1650910" in caught.value.reason


def test_malformed_comments_are_errors_and_the_others_are_kept() -> None:
    good = {"id": 51, "bug_id": 5, "count": 0, "creator": "a@example.org",
            "creation_time": "2020-07-01T10:00:00Z", "is_private": False, "text": "kept"}  # fmt: skip
    comments = [
        good,
        {**good, "id": 52, "creator": ""},
        {**good, "id": 53, "count": True},
        {**good, "id": 54, "bug_id": 6},
        {**good, "id": 55, "creation_time": "yesterday"},
        {**good, "id": 56, "is_private": "no"},
        {key: value for key, value in good.items() if key != "creator"} | {"id": 57},
        "not an object",
        {key: value for key, value in good.items() if key != "text"} | {"id": 59},
        {**good, "id": 60, "text": None},
    ]
    routes = {
        "/rest/bug/5/comment": (
            200,
            {},
            json.dumps({"bugs": {"5": {"comments": comments}}, "comments": {}}).encode(),
        ),
        "/rest/bug/6/comment": (200, {}, b'{"bugs": {}, "comments": {}}'),
    }
    with FixtureServer(routes) as server:
        rest_url = server.base_url + "rest/"
        kept, errors = bugzilla.fetch_comments(_client(), rest_url, 5)
        with pytest.raises(FetchError) as caught:
            bugzilla.fetch_comments(_client(), rest_url, 6)
    assert [(c.comment_id, c.text) for c in kept] == [(51, "kept")]
    assert [(e.record_ref, e.error.split(":")[0]) for e in errors] == [
        ("bug 5 comment 52", "TypeError"),
        ("bug 5 comment 53", "TypeError"),
        ("bug 5 comment 54", "ValueError"),
        ("bug 5 comment 55", "ValueError"),
        ("bug 5 comment 56", "TypeError"),
        ("bug 5 comment 57", "KeyError"),
        ("bug 5 comment #7", "TypeError"),
        ("bug 5 comment 59", "KeyError"),
        ("bug 5 comment 60", "TypeError"),
    ]
    assert "not a Bugzilla comment list of bug 6" in caught.value.reason


def test_ingest_fetches_comments_incrementally_in_any_order(sim: SimulatorRunning, tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    locations = sim_locations(sim)
    first = bugzilla_bugs.ingest_bugzilla(path, locations, as_of=_t(7, 25))
    assert first == bugzilla_bugs.BugzillaSummary(
        new_bug_rows=2, comment_fetches=2, new_comments=10, errors=0, unreachable=()
    )
    # a backfill of an earlier as-of: nothing new, the first observations move back to 07-12
    earlier = bugzilla_bugs.ingest_bugzilla(path, locations, as_of=_t(7, 12))
    assert (earlier.comment_fetches, earlier.new_comments) == (2, 0)
    again = bugzilla_bugs.ingest_bugzilla(path, locations, as_of=_t(7, 25))
    assert (again.comment_fetches, again.new_comments) == (2, 0)
    first_observed = "SELECT first_observed_at, count(*) FROM bugzilla_comments GROUP BY ALL ORDER BY 1"
    assert warehouse_rows(path, first_observed) == [(_t(7, 12), 5), (_t(7, 25), 5)]
    # the text of every comment made by 07-25, as the scenario declares it
    declared = [
        (bug.id, count, comment.text)
        for bug in sim.world.revocations.bugs
        for count, comment in enumerate(bug.comments)
        if comment.at <= _t(7, 25)
    ]
    assert len(declared) == 10
    stored = warehouse_rows(path, "SELECT bug_id, count, text FROM bugzilla_comments ORDER BY ALL")
    assert stored == sorted(declared)
    fetches = (
        "SELECT bug_id, fetched_at, new_since, comments_returned FROM bugzilla_comment_fetches "
        "ORDER BY bug_id, fetched_at, new_since NULLS FIRST"
    )
    assert warehouse_rows(path, fetches) == [
        (SECOM_BUG, _t(7, 12), None, 3),
        (SECOM_BUG, _t(7, 25), None, 6),
        (SECOM_BUG, _t(7, 25), _t(7, 24, 6), 0),  # only newer than the newest known
        (EXAMPLE_BUG, _t(7, 12), None, 2),
        (EXAMPLE_BUG, _t(7, 25), None, 4),
        (EXAMPLE_BUG, _t(7, 25), _t(7, 24, 12), 0),
    ]
    con = warehouse.connect(path, read_only=True)
    try:
        secom, example = linked_bugs(con, _t(7, 25), "Unused Owner", [SECOM_BUG, EXAMPLE_BUG])
    finally:
        con.close()
    kept, broken = secom.rhythm(), example.rhythm()
    assert isinstance(kept, Rhythm)
    assert isinstance(broken, Rhythm)
    assert kept.kept
    assert kept.longest == Gap(_t(7, 10, 8), _t(7, 17, 8), open_ended=False)  # exactly 7 days
    # the root-program comment of 07-20 is no update by the CA
    assert [g for g in broken.gaps if g.too_long] == [Gap(_t(7, 10, 9), _t(7, 24, 12), open_ended=False)]


def test_a_failed_comment_fetch_is_recorded_and_the_other_bugs_fetched(
    bugzilla_faults: SimulatorRunning, tmp_path: Path
) -> None:
    sim = bugzilla_faults
    path = tmp_path / "w.duckdb"
    locations = sim_locations(sim)
    # request 1 is the search, request 2 the first bug's comments (a 404 is not retried)
    sim.set_faults("bugzilla", [Fault(FaultKind.SERVER_ERROR, every=2, status=404)])
    summary = bugzilla_bugs.ingest_bugzilla(path, locations, as_of=_t(7, 25))
    assert (summary.comment_fetches, summary.new_comments, summary.errors) == (1, 4, 1)
    ((location, error),) = warehouse_rows(path, "SELECT location, error FROM revocation_source_errors")
    assert location == bugzilla.comments_url(locations.url(Source.BUGZILLA), SECOM_BUG)
    assert "status 404" in str(error)
    assert warehouse_rows(path, "SELECT DISTINCT bug_id FROM bugzilla_comments") == [(EXAMPLE_BUG,)]


def test_which_bugs_get_their_comments_fetched(tmp_path: Path) -> None:
    """Tagged bugs and bugs a declared incident lists every run; another untagged bug of a CCADB
    owner only when it changed since its last comment fetch, never for a first fetch (thousands of
    CA-compliance bugs name an owner)."""
    path = tmp_path / "w.duckdb"
    con = warehouse.connect(path)
    try:
        ccadb_snapshot(con, "00" * 32, {})  # CCADB owner "SECOM Trust Systems"
        for bug_id in (1, 3):
            comment = BugComment(bug_id * 10, bug_id, 0, CA, _t(7, 1), is_private=False)
            observations.store_bug_comments(con, bug_id, [comment], [], fetched_at=_t(7, 5), new_since=None,
                                            location="earlier")  # fmt: skip
    finally:
        con.close()

    def bug(bug_id: int, summary: str, last_change: str, whiteboard: str = "") -> dict[str, object]:
        return {"id": bug_id, "summary": summary, "whiteboard": whiteboard, "status": "ASSIGNED",
                "creation_time": "2020-07-01T00:00:00Z", "last_change_time": last_change}  # fmt: skip

    search = {"bugs": [
        bug(1, "SECOM: changed since its comments were fetched", "2020-07-08T00:00:00Z"),
        bug(2, "SECOM: never fetched", "2020-07-08T00:00:00Z"),
        bug(3, "SECOM: unchanged since its comments were fetched", "2020-07-04T00:00:00Z"),
        bug(4, "Unknown CA: delayed revocation", "2020-06-01T00:00:00Z", "[ca-revocation-delay]"),
        bug(5, "Unknown CA: listed by a declared incident", "2020-06-01T00:00:00Z"),
    ]}  # fmt: skip
    empty = {"comments": []}
    routes = {
        "/rest/bug": (200, {}, json.dumps(search).encode()),
        "/rest/bug/1/comment": (200, {}, json.dumps({"bugs": {"1": empty}, "comments": {}}).encode()),
        "/rest/bug/4/comment": (200, {}, json.dumps({"bugs": {"4": empty}, "comments": {}}).encode()),
        "/rest/bug/5/comment": (200, {}, json.dumps({"bugs": {"5": empty}, "comments": {}}).encode()),
    }
    with FixtureServer(routes) as server:
        locations = settings_from(
            {
                "stamping": {"mode": "simulated"},
                "sources": {"requests_per_second": 1000, "bugzilla": {"url": server.base_url + "rest/"}},
            }
        ).sources
        summary = bugzilla_bugs.ingest_bugzilla(path, locations, as_of=_t(7, 10), linked_bug_ids={5})
    assert (summary.comment_fetches, summary.errors) == (3, 0)
    asked = sorted(p for p, _ in server.requests if "/comment" in p)
    assert asked == [
        "/rest/bug/1/comment?include_fields=id%2Cbug_id%2Ccount%2Ccreator%2Ccreation_time%2Cis_private%2Ctext"
        "&new_since=2020-07-01T00%3A00%3A00Z",
        "/rest/bug/4/comment?include_fields=id%2Cbug_id%2Ccount%2Ccreator%2Ccreation_time%2Cis_private%2Ctext",
        "/rest/bug/5/comment?include_fields=id%2Cbug_id%2Ccount%2Ccreator%2Ccreation_time%2Cis_private%2Ctext",
    ]
