"""The Bugzilla bugs linked to an incident and what the stored searches show of their update rhythm.

Linked: the bugs the declared incident lists in the evaluator's configuration, and the bugs about the
same CA owner carrying a revocation-delay whiteboard tag (the evaluator's automatic link).

ctwatch stores bug fields from the search (`bugzilla_bugs`), not the comments, so the CA's own
comment times are unknown here. What the searches do prove: a search at time t that saw
last_change_time c with t - c > 7 days shows that nobody changed the bug for more than 7 days, so
the IRG rhythm ("MUST be updated no less frequently than every 7 days") was not kept then. The
converse is not provable from these fields (any change by anyone moves last_change_time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import duckdb

from ctwatch.timeutil import utc_or_none

UPDATE_INTERVAL: Final = timedelta(days=7)  # IRG v3.2, revocation-delay reports
_CONFIGURED: Final = "listed in the configuration"
_AUTOMATIC: Final = "same CA owner, revocation-delay tag"
_CLOSED: Final = frozenset({"RESOLVED", "VERIFIED", "CLOSED"})

# Short enough to stay inline (DESIGN: SQL over ~3 lines lives in .sql files).
_BUG_OBSERVATIONS = (
    "SELECT bug_id, observed_at, summary, status, resolution, creation_time, last_change_time, ca_owner,"
    " revocation_delay_tags FROM bugzilla_bugs WHERE observed_at <= $as_of ORDER BY bug_id, observed_at"
)


@dataclass(frozen=True, slots=True)
class BugSighting:
    observed_at: datetime
    status: str | None
    resolution: str | None
    last_change_time: datetime | None


@dataclass(frozen=True, slots=True)
class Silence:
    """A search that proves the bug had no change at all for longer than the 7-day rhythm."""

    last_change_time: datetime
    observed_at: datetime

    @property
    def length(self) -> timedelta:
        return self.observed_at - self.last_change_time


@dataclass(frozen=True, slots=True)
class LinkedBug:
    bug_id: int
    summary: str
    creation_time: datetime
    how_linked: str
    sightings: tuple[BugSighting, ...]  # by observed_at

    @property
    def latest(self) -> BugSighting:
        return self.sightings[-1]

    def silences(self) -> list[Silence]:
        """Searches of the open bug that saw no change for more than 7 days (one per last change)."""
        longest: dict[datetime, Silence] = {}
        for sighting in self.sightings:
            changed = sighting.last_change_time
            if changed is None or (sighting.status or "").upper() in _CLOSED:
                continue
            if sighting.observed_at - changed > UPDATE_INTERVAL:
                longest[changed] = Silence(changed, sighting.observed_at)  # later sightings are longer
        return [longest[k] for k in sorted(longest)]


def linked_bugs(
    con: duckdb.DuckDBPyConnection, as_of: datetime, ca_owner: str, configured_ids: Iterable[int]
) -> list[LinkedBug]:
    """Bugs linked to an incident of `ca_owner`, as the searches made by `as_of` saw them."""
    configured = set(configured_ids)
    cursor = con.execute(_BUG_OBSERVATIONS, {"as_of": as_of})
    columns = [d[0] for d in cursor.description or ()]
    by_bug: dict[int, list[dict[str, Any]]] = {}
    for values in cursor.fetchall():
        record = dict(zip(columns, values, strict=True))
        by_bug.setdefault(int(record["bug_id"]), []).append(record)
    bugs = []
    for bug_id, records in sorted(by_bug.items()):
        latest = records[-1]
        explicit = bug_id in configured
        automatic = latest["ca_owner"] == ca_owner and bool(latest["revocation_delay_tags"])
        if not (explicit or automatic):
            continue
        bugs.append(
            LinkedBug(
                bug_id=bug_id,
                summary=str(latest["summary"]),
                creation_time=min(r["creation_time"] for r in records).astimezone(UTC),
                how_linked=_CONFIGURED if explicit else _AUTOMATIC,
                sightings=tuple(
                    BugSighting(
                        observed_at=r["observed_at"].astimezone(UTC),
                        status=r["status"],
                        resolution=r["resolution"],
                        last_change_time=utc_or_none(r["last_change_time"]),
                    )
                    for r in records
                ),
            )
        )
    return bugs
