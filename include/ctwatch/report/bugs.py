"""The Bugzilla bugs linked to an incident and whether the CA's own updates kept the IRG rhythm.

Linked as the evaluator links them (ctwatch.evaluate.links): listed in the declared incident unless
about another CA owner, or about the same CA owner with a revocation-delay whiteboard tag.

The rhythm (CCADB IRG v3.2, revocation-delay reports: "MUST be updated no less frequently than every
7 days"): the CA's updates are the public comments by the bug's assignee, the CA's representative,
as the latest search by the as-of names the assignee. They are checked from the bug's filing time,
update to update, to the end of what is known:

- a bug's comments are known up to its latest complete comment fetch by the as-of, and further up to
  a later search that saw no change since that fetch (no change, no new comment);
- the gap after the last update counts only while the bug is provably open: up to the latest search
  by the as-of that saw it open.

So every gap stated is proven by stored evidence. Only comments created and first observed by the
as-of are used: the same as-of gives the same result whatever was fetched later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any, Final

import duckdb

from ctwatch.evaluate.links import bug_link
from ctwatch.evidence.bugzilla import BugComment
from ctwatch.timeutil import utc_or_none
from ctwatch.warehouse.observations import comment_fetches
from ctwatch.warehouse.sqlfiles import query_dicts

UPDATE_INTERVAL: Final = timedelta(days=7)  # IRG v3.2, revocation-delay reports: MUST
RECOMMENDED_UPDATE_INTERVAL: Final = timedelta(days=3)  # ... and SHOULD
_CLOSED: Final = frozenset({"RESOLVED", "VERIFIED", "CLOSED"})


@dataclass(frozen=True, slots=True)
class BugSighting:
    observed_at: datetime
    status: str | None
    resolution: str | None
    assigned_to: str | None  # None: searched before ctwatch stored the assignee
    last_change_time: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status is not None and self.status.upper() not in _CLOSED


@dataclass(frozen=True, slots=True)
class Gap:
    """A time without an update by the CA: from the filing or an update to the next update, or
    (`open_ended`) to the end of what is known while the bug was open: at least that long."""

    start: datetime
    end: datetime
    open_ended: bool

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def too_long(self) -> bool:
        return self.length > UPDATE_INTERVAL


@dataclass(frozen=True, slots=True)
class Rhythm:
    assignee: str
    checked_until: datetime  # the end of what is known while the bug was provably open
    updates: tuple[datetime, ...]  # the CA's updates from the filing to checked_until
    gaps: tuple[Gap, ...]  # between filing and updates, in time order; the open-ended one last

    @property
    def longest(self) -> Gap | None:
        return max(self.gaps, key=lambda g: g.length, default=None)

    @property
    def kept(self) -> bool:
        return not any(g.too_long for g in self.gaps)

    @property
    def gaps_over_recommended(self) -> int:
        """Gaps longer than the 3 days the IRG says a revocation-delay report SHOULD keep."""
        return sum(g.length > RECOMMENDED_UPDATE_INTERVAL for g in self.gaps)


class Unchecked(StrEnum):
    """Why a bug's rhythm cannot be checked."""

    NEVER_FETCHED = "ctwatch never fetched the bug's comments"
    NO_ASSIGNEE = "no search returned the assignee, so the CA's own comments cannot be told apart"
    NEVER_SEEN_OPEN = "no search saw the bug open"


@dataclass(frozen=True, slots=True)
class LinkedBug:
    bug_id: int
    summary: str
    creation_time: datetime
    how_linked: str
    sightings: tuple[BugSighting, ...]  # by observed_at
    comments: tuple[BugComment, ...]  # created and first observed by the as-of, by creation time
    comments_fetched_at: datetime | None  # the latest complete comment fetch by the as-of

    @property
    def latest(self) -> BugSighting:
        return self.sightings[-1]

    def comments_known_until(self) -> datetime | None:
        """Every comment up to this time is known: the latest comment fetch, or a later search that
        saw no change since it. None: the comments were never fetched."""
        fetched = self.comments_fetched_at
        if fetched is None:
            return None
        unchanged = [
            s.observed_at
            for s in self.sightings
            if s.observed_at > fetched and s.last_change_time is not None and s.last_change_time <= fetched
        ]
        return max(unchanged, default=fetched)

    def rhythm(self) -> Rhythm | Unchecked:
        known_until = self.comments_known_until()
        if known_until is None:
            return Unchecked.NEVER_FETCHED
        assignee = self.latest.assigned_to
        if assignee is None:
            return Unchecked.NO_ASSIGNEE
        open_until = max((s.observed_at for s in self.sightings if s.is_open), default=None)
        if open_until is None:
            return Unchecked.NEVER_SEEN_OPEN
        checked_until = min(known_until, open_until)
        updates = tuple(
            c.creation_time
            for c in self.comments
            # Bugzilla logins are e-mail addresses: compared without case
            if c.creator.casefold() == assignee.casefold()
            and not c.is_private
            and self.creation_time <= c.creation_time <= checked_until
        )
        moments = (self.creation_time, *updates)
        gaps = [Gap(start, end, open_ended=False) for start, end in pairwise(moments)]
        if checked_until > moments[-1]:
            gaps.append(Gap(moments[-1], checked_until, open_ended=True))
        return Rhythm(assignee, checked_until, updates, tuple(gaps))


def _comments_by_bug(con: duckdb.DuckDBPyConnection, as_of: datetime) -> dict[int, list[BugComment]]:
    by_bug: dict[int, list[BugComment]] = {}
    for row in query_dicts(con, "sources/bugzilla_comments_as_of", {"as_of": as_of}):
        comment = BugComment(**{**row, "creation_time": row["creation_time"].astimezone(UTC)})
        by_bug.setdefault(comment.bug_id, []).append(comment)
    return by_bug


def linked_bugs(
    con: duckdb.DuckDBPyConnection, as_of: datetime, ca_owner: str, configured_ids: Iterable[int]
) -> list[LinkedBug]:
    """Bugs linked to an incident of `ca_owner`, with their comments, as known by `as_of`."""
    configured = set(configured_ids)
    by_bug: dict[int, list[dict[str, Any]]] = {}
    for record in query_dicts(con, "sources/bugzilla_bugs_as_of", {"as_of": as_of}):
        by_bug.setdefault(int(record["bug_id"]), []).append(record)
    comments = _comments_by_bug(con, as_of)
    fetches = comment_fetches(con, as_of)
    bugs = []
    for bug_id, records in sorted(by_bug.items()):
        latest = records[-1]
        how_linked = bug_link(
            bug_id,
            latest["ca_owner"],
            bool(latest["revocation_delay_tags"]),
            owner=ca_owner,
            configured_ids=configured,
        )
        if how_linked is None:
            continue
        fetch = fetches.get(bug_id)
        bugs.append(
            LinkedBug(
                bug_id=bug_id,
                summary=str(latest["summary"]),
                creation_time=min(r["creation_time"] for r in records).astimezone(UTC),
                how_linked=how_linked,
                sightings=tuple(
                    BugSighting(
                        observed_at=r["observed_at"].astimezone(UTC),
                        status=r["status"],
                        resolution=r["resolution"],
                        assigned_to=r["assigned_to"],
                        last_change_time=utc_or_none(r["last_change_time"]),
                    )
                    for r in records
                ),
                comments=tuple(comments.get(bug_id, ())),
                comments_fetched_at=fetch.fetched_at if fetch is not None else None,
            )
        )
    return bugs
