"""Mozilla Bugzilla: the CA-compliance bugs linked to CCADB owners, and the comments of those an
incident may link, each fetch asking only for comments newer than the newest one known."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ctwatch import warehouse
from ctwatch.evidence.bugzilla import Bug, BugComment
from ctwatch.evidence.health import SourceCheck
from ctwatch.evidence.revocation import RecordError, observation_stamp
from ctwatch.revocation.config import Source, SourceLocations
from ctwatch.revocation.snapshots import record_fetch_error, source_client
from ctwatch.sources import bugzilla
from ctwatch.sources.http import FetchError
from ctwatch.warehouse import observations, source_health


@dataclass(frozen=True, slots=True)
class BugzillaSummary:
    new_bug_rows: int
    comment_fetches: int  # answered ones
    new_comments: int
    errors: int  # failed searches and comment fetches, malformed bugs and comments (all recorded)
    unreachable: tuple[str, ...]  # "<URL>: <why>" for each request Bugzilla did not answer


@dataclass(frozen=True, slots=True)
class _CommentAnswer:
    bug_id: int
    comments: list[BugComment]
    errors: list[RecordError]
    fetched_at: datetime
    new_since: datetime | None
    location: str


def _needs_comments(
    bug: Bug, previous: observations.CommentFetch | None, linked_bug_ids: Collection[int]
) -> bool:
    """A revocation-delay bug or one a declared incident lists every run; another bug only to keep
    the comments of one fetched before (while it carried a tag) current when it changed: most
    CA-compliance bugs name an owner, so fetching every owner's bug would mean thousands of requests."""
    if bug.revocation_delay_tags or bug.bug_id in linked_bug_ids:
        return True
    if bug.ca_owner is None or previous is None or bug.last_change_time is None:
        return False
    return bug.last_change_time > previous.fetched_at


def ingest_bugzilla(
    warehouse_file: Path,
    locations: SourceLocations,
    *,
    as_of: datetime | None = None,
    linked_bug_ids: Collection[int] = (),
) -> BugzillaSummary:
    """CA-compliance bugs linked to CCADB owners, then the comments of those an incident may link
    (`_needs_comments`; `linked_bug_ids`: the bugs declared incidents list), each fetch asking only
    for comments newer than the newest one known."""
    client, sent_as_of = source_client(locations, Source.BUGZILLA, as_of)
    observed_at, _ = observation_stamp(sent_as_of)
    con = warehouse.connect(warehouse_file)
    try:
        owners = observations.ccadb_owner_names(con)
        fetched_before = observations.comment_fetches(con, observed_at)
    finally:
        con.close()
    answers: list[_CommentAnswer] = []
    failures: list[tuple[str, str, datetime]] = []  # comment fetches: location, error, when
    search_failure: str | None = None
    try:
        try:
            bugs, errors = bugzilla.search_bugs(
                client,
                locations.url(Source.BUGZILLA),
                product=locations.bugzilla_product,
                component=locations.bugzilla_component,
                owner_names=owners,
            )
        except FetchError as exc:
            bugs, errors = [], [RecordError("search", str(exc))]
            search_failure = str(exc)
        for bug in bugs:
            previous = fetched_before.get(bug.bug_id)
            if not _needs_comments(bug, previous, linked_bug_ids):
                continue
            new_since = previous.newest_comment_at if previous is not None else None
            location = bugzilla.comments_url(locations.url(Source.BUGZILLA), bug.bug_id)
            fetched_at, _ = observation_stamp(sent_as_of)
            try:
                comments, comment_errors = bugzilla.fetch_comments(
                    client, locations.url(Source.BUGZILLA), bug.bug_id, new_since=new_since
                )
            except FetchError as exc:
                failures.append((location, str(exc), fetched_at))
                continue
            answers.append(
                _CommentAnswer(bug.bug_id, comments, comment_errors, fetched_at, new_since, location)
            )
    finally:
        client.close()
    con = warehouse.connect(warehouse_file)
    try:
        new = observations.store_bugs(
            con, bugs, observed_at=observed_at, location=locations.url(Source.BUGZILLA)
        )
        for error in errors:
            record_fetch_error(con, "bugzilla", error.record_ref, error.error, observed_at)
        new_comments = 0
        for a in answers:
            new_comments += observations.store_bug_comments(
                con, a.bug_id, a.comments, a.errors, fetched_at=a.fetched_at, new_since=a.new_since,
                location=a.location,
            )  # fmt: skip
        search_url = locations.url(Source.BUGZILLA)
        checks = [SourceCheck(str(Source.BUGZILLA), search_url, observed_at, search_failure)]
        checks += [SourceCheck(str(Source.BUGZILLA), a.location, a.fetched_at) for a in answers]
        for location, error_text, at in failures:
            record_fetch_error(con, "bugzilla", location, error_text, at)
            checks.append(SourceCheck(str(Source.BUGZILLA), location, at, error_text))
        source_health.record_checks(con, checks)
    finally:
        con.close()
    record_errors = len(errors) + sum(len(a.errors) for a in answers)
    unreachable = tuple(f"{c.target}: {c.failure}" for c in checks if not c.ok)
    return BugzillaSummary(new, len(answers), new_comments, record_errors + len(failures), unreachable)
