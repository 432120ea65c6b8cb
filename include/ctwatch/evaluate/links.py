"""Which Bugzilla bugs belong to an incident of one CA owner (the clock and the reports agree).

A declared incident is per rule and splits into one incident per CA owner, while each bug is about
one CA: a bug the configuration lists belongs to every owner's incident except when its summary
names another CA owner. Unlisted, a bug belongs to its owner's incident when its whiteboard carries
a revocation-delay tag.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

CONFIGURED: Final = "linked in the configuration"
AUTOMATIC: Final = "same CA owner, revocation-delay whiteboard"


def bug_link(
    bug_id: int,
    bug_owner: str | None,
    has_delay_tag: bool,
    *,
    owner: str,
    configured_ids: Collection[int],
) -> str | None:
    """How the bug is linked to `owner`'s incident (CONFIGURED or AUTOMATIC), or None."""
    if bug_id in configured_ids and bug_owner in (None, owner):
        return CONFIGURED
    if bug_owner == owner and has_delay_tag:
        return AUTOMATIC
    return None
