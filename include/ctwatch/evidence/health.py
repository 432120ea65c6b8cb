"""Source health: each attempt to reach a source, and whether it gave ctwatch what it asked for.

A source is a revocation source (`ccadb`, `onecrl`, ..., one target per URL: each CRL, each OCSP
responder, each crt.sh search) or a CT log (`ct`, the log's URL as target). Source health is how
staff know when the monitor is blind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CT_LOG = "ct"


@dataclass(frozen=True, slots=True)
class SourceCheck:
    source: str
    target: str  # the URL (a list, a CRL, an OCSP responder, a log), or the search
    checked_at: datetime  # the observation stamp of the attempt
    failure: str | None = None  # None: it answered; else why it did not, in one line

    @property
    def ok(self) -> bool:
        return self.failure is None
