"""A CA-compliance bug and its comments as Bugzilla's REST API gave them (UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Bug:
    bug_id: int
    summary: str
    whiteboard: str
    product: str | None
    component: str | None
    status: str | None
    resolution: str | None
    assigned_to: str | None  # the assignee's login: for a CA-compliance bug, the CA's representative
    creator: str | None  # the reporter's login
    creation_time: datetime
    last_change_time: datetime | None
    revocation_delay_tags: tuple[str, ...]
    ca_owner: str | None


@dataclass(frozen=True, slots=True)
class BugComment:
    comment_id: int  # unique across Bugzilla
    bug_id: int
    count: int  # the comment's number in its bug; 0 is the description the reporter filed
    creator: str  # login of the author
    creation_time: datetime
    is_private: bool  # visible to insiders only: not a public update
    # what the comment says (comment 0: the bug's description); "" where only the author and time
    # were read back, as the update-rhythm report does
    text: str = ""
