"""The simulated Bugzilla REST API: bug searches and comments, as filed by a moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ctwatch.sim.revocations import RevocationWorld
from ctwatch.timeutil import iso_z


def bugzilla_bugs(
    revocations: RevocationWorld, query: dict[str, list[str]], moment: datetime
) -> dict[str, Any]:
    """`/rest/bug?...`: bugs filed by `moment`, filtered like Bugzilla's search parameters."""
    ids = {int(i) for value in query.get("id", []) for i in value.split(",") if i.strip().isdigit()}
    whiteboards = query.get("whiteboard", [])
    summaries = query.get("summary", [])
    created_after = _bz_time(query.get("creation_time", [""])[0])
    changed_after = _bz_time(query.get("last_change_time", [""])[0])
    products = set(query.get("product", []))
    components = set(query.get("component", []))
    fields = {f for value in query.get("include_fields", []) for f in value.split(",") if f}
    bugs = []
    for bug in revocations.bugs:
        if bug.creation_time > moment or (ids and bug.id not in ids):
            continue
        if any(w.lower() not in bug.whiteboard.lower() for w in whiteboards):
            continue
        if any(s.lower() not in bug.summary.lower() for s in summaries):
            continue
        if (products and bug.product not in products) or (components and bug.component not in components):
            continue
        last_change = bug.last_change_as_of(moment)
        if created_after and bug.creation_time < created_after:
            continue
        if changed_after and last_change < changed_after:
            continue
        status, resolution = bug.status_as_of(moment)
        record = {
            "id": bug.id,
            "summary": bug.summary,
            "whiteboard": bug.whiteboard,
            "creation_time": iso_z(bug.creation_time),
            "last_change_time": iso_z(last_change),
            "status": status,
            "resolution": resolution,
            "product": bug.product,
            "component": bug.component,
            "assigned_to": bug.assigned_to,
            "creator": bug.reporter,
            "is_open": status != "RESOLVED",
        }
        bugs.append({k: v for k, v in record.items() if not fields or k in fields})
    bugs.sort(key=lambda b: str(b.get("id", "")).zfill(12))
    offset = int(query.get("offset", ["0"])[0] or 0)
    limit = int(query.get("limit", ["0"])[0] or 0)
    return {"bugs": bugs[offset : offset + limit] if limit else bugs[offset:]}


def bugzilla_comments(
    revocations: RevocationWorld, bug_id: int, query: dict[str, list[str]], moment: datetime
) -> dict[str, Any] | None:
    """`/rest/bug/<id>/comment[?new_since=]`: the comments made by `moment` (with `new_since`, only
    those created after it); None for a bug not filed by then."""
    new_since = _bz_time(query.get("new_since", [""])[0])
    for bug in revocations.bugs:
        if bug.id == bug_id and bug.creation_time <= moment:
            comments = [
                {
                    "id": bug.id * 100 + count,
                    "bug_id": bug.id,
                    "count": count,
                    "text": comment.text,
                    "creator": comment.creator,
                    "creation_time": iso_z(comment.at),
                    "time": iso_z(comment.at),
                    "is_private": False,
                }
                for count, comment in enumerate(c for c in bug.comments if c.at <= moment)
                if new_since is None or comment.at > new_since
            ]
            return {"bugs": {str(bug.id): {"comments": comments}}, "comments": {}}
    return None


def _bz_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
