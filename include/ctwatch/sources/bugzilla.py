"""Mozilla Bugzilla: CA-compliance bugs through the REST API, the revocation-delay whiteboard tags,
and the CA owner each bug is about. A bug's creation time is when the CA was demonstrably made
aware in public, so it may start a revocation clock (ctwatch.evaluate decides).

A bug's comments (`fetch_comments`: who wrote each, when, and the text) show whether the CA kept
the IRG update rhythm: the assignee of a CA-compliance bug is the CA's representative. Their text
(ctwatch.sources.bug_mentions) shows which certificates a bug names.

Whiteboard tags (docs/domain.md, Bugzilla): `[ca-revocation-delay]`, `[leaf-revocation-delay]`, the 2020
spellings `[delayed-revocation-ca]` / `[delayed-revocation-leaf]`, and the bare `revocation-delay`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ctwatch.evidence.bugzilla import Bug, BugComment
from ctwatch.evidence.revocation import RecordError
from ctwatch.sources.http import BodyError, HttpClient, join_url
from ctwatch.timeutil import iso_z, parse_utc

INCLUDE_FIELDS = (
    "id,summary,whiteboard,status,resolution,creation_time,last_change_time,product,component,"
    "assigned_to,creator"
)
COMMENT_FIELDS = "id,bug_id,count,creator,creation_time,is_private,text"
_TAG = re.compile(r"\[([^\[\]]+)\]|(\S+)")
_DELAY_TAG = re.compile(r"(?:.*-)?revocation-delay|delayed-revocation-.+", re.IGNORECASE)
PAGE_SIZE = 500


def revocation_delay_tags(whiteboard: str) -> tuple[str, ...]:
    """The whiteboard tags that mark a delayed revocation, lower case, in order."""
    tags = [(bracketed or bare).strip().lower() for bracketed, bare in _TAG.findall(whiteboard)]
    return tuple(tag for tag in tags if _DELAY_TAG.fullmatch(tag))


def match_ca_owner(summary: str, owner_names: Sequence[str]) -> str | None:
    """The CA owner a bug summary names ("SECOM: Delayed revocation ..."): the longest CCADB owner
    name found as a whole-word, case-insensitive match; None when none is."""
    lowered = summary.lower()
    for name in sorted(owner_names, key=len, reverse=True):
        if re.search(r"(?<!\w)" + re.escape(name.lower()) + r"(?!\w)", lowered):
            return name
    # CA bugs start with the owner's short name before a colon ("Sectigo: ..."): prefix match
    prefix = summary.split(":", 1)[0].strip().lower()
    if prefix and ":" in summary:
        for name in sorted(owner_names, key=len):
            if name.lower().startswith(prefix + " ") or name.lower() == prefix:
                return name
    return None


def _bugzilla_time(moment: datetime) -> str:
    """A time as Bugzilla's REST parameters take it: ISO 8601 in UTC."""
    return iso_z(moment)


def _login(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value


def _bug(raw: object, owner_names: Sequence[str]) -> Bug:
    if not isinstance(raw, dict):
        raise TypeError(f"a bug is a JSON object, not {type(raw).__name__}")
    whiteboard = str(raw.get("whiteboard") or "")
    summary = str(raw.get("summary") or "")
    last_change = raw.get("last_change_time")
    return Bug(
        bug_id=int(raw["id"]),
        summary=summary,
        whiteboard=whiteboard,
        product=raw.get("product"),
        component=raw.get("component"),
        status=raw.get("status"),
        resolution=raw.get("resolution") or None,
        assigned_to=_login(raw, "assigned_to"),
        creator=_login(raw, "creator"),
        creation_time=parse_utc(str(raw["creation_time"])),
        last_change_time=parse_utc(str(last_change)) if last_change else None,
        revocation_delay_tags=revocation_delay_tags(whiteboard),
        ca_owner=match_ca_owner(summary, owner_names),
    )


def _decode(body: bytes) -> list[object]:
    try:
        bugs = json.loads(body)["bugs"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise BodyError(f"not a Bugzilla bug list: {exc}") from exc
    if not isinstance(bugs, list):
        raise BodyError("'bugs' is not a list")
    return bugs


def search_bugs(
    client: HttpClient,
    rest_url: str,
    *,
    product: str,
    component: str,
    owner_names: Sequence[str] = (),
    whiteboard: str | None = None,
    changed_since: datetime | None = None,
) -> tuple[list[Bug], list[RecordError]]:
    """Bugs of `product` :: `component` (all of them, page by page), optionally with `whiteboard`
    as a substring or changed since a time. Malformed bug objects are returned as errors."""
    bugs: list[Bug] = []
    errors: list[RecordError] = []
    offset = 0
    while True:
        params: dict[str, str | int] = {
            "product": product,
            "component": component,
            "include_fields": INCLUDE_FIELDS,
            "limit": PAGE_SIZE,
            "offset": offset,
            "order": "bug_id",
        }
        if whiteboard:
            params["whiteboard"] = whiteboard
        if changed_since is not None:
            params["last_change_time"] = _bugzilla_time(changed_since)
        page = client.get(join_url(rest_url, "bug"), _decode, params=params)
        for raw in page:
            try:
                bugs.append(_bug(raw, owner_names))
            except (KeyError, TypeError, ValueError, OverflowError) as exc:  # int(Infinity): OverflowError
                ref = raw.get("id", "?") if isinstance(raw, dict) else "?"
                errors.append(RecordError(str(ref), f"{type(exc).__name__}: {exc}"))
        if len(page) < PAGE_SIZE:
            return bugs, errors
        offset += PAGE_SIZE


def _integer(raw: dict[str, Any], key: str) -> int:
    value = raw[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{key} must be an integer")
    return value


def _comment(raw: Any, bug_id: int) -> BugComment:
    if not isinstance(raw, dict):
        raise TypeError(f"a comment is a JSON object, not {type(raw).__name__}")
    if _integer(raw, "bug_id") != bug_id:
        raise ValueError(f"a comment of bug {raw['bug_id']} in the answer for bug {bug_id}")
    creator, is_private, text = raw["creator"], raw["is_private"], raw["text"]
    if not isinstance(creator, str) or not creator:
        raise TypeError("creator must be a non-empty string")
    if not isinstance(is_private, bool):
        raise TypeError("is_private must be a boolean")
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    return BugComment(
        comment_id=_integer(raw, "id"),
        bug_id=bug_id,
        count=_integer(raw, "count"),
        creator=creator,
        creation_time=parse_utc(str(raw["creation_time"])),
        is_private=is_private,
        text=text,
    )


def _comments_decoder(bug_id: int) -> Callable[[bytes], list[Any]]:
    def decode(body: bytes) -> list[Any]:
        try:
            comments = json.loads(body)["bugs"][str(bug_id)]["comments"]
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise BodyError(f"not a Bugzilla comment list of bug {bug_id}: {exc!r}") from exc
        if not isinstance(comments, list):
            raise BodyError("'comments' is not a list")
        return comments

    return decode


def comments_url(rest_url: str, bug_id: int) -> str:
    return join_url(rest_url, f"bug/{bug_id}/comment")


def fetch_comments(
    client: HttpClient, rest_url: str, bug_id: int, *, new_since: datetime | None = None
) -> tuple[list[BugComment], list[RecordError]]:
    """The comments of one bug (with `new_since`: only those created after it, Bugzilla's own
    filter). Malformed comment objects are returned as errors; an unusable body raises FetchError."""
    params: dict[str, str | int] = {"include_fields": COMMENT_FIELDS}
    if new_since is not None:
        params["new_since"] = _bugzilla_time(new_since)
    raw_comments = client.get(comments_url(rest_url, bug_id), _comments_decoder(bug_id), params=params)
    comments: list[BugComment] = []
    errors: list[RecordError] = []
    for position, raw in enumerate(raw_comments):
        try:
            comments.append(_comment(raw, bug_id))
        except (KeyError, TypeError, ValueError) as exc:
            ref = raw.get("id", f"#{position}") if isinstance(raw, dict) else f"#{position}"
            errors.append(RecordError(f"bug {bug_id} comment {ref}", f"{type(exc).__name__}: {exc}"))
    return comments, errors
