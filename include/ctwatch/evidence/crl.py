"""What one CRL fetch observed: its validators for the next conditional GET, the staged body, the stamp.

Stamp: a live fetch is stamped with the real time the answer arrived; a request to a simulator or
archive that carries an as-of is stamped with that as-of, because the answer represents the world
as of then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class CrlValidators:
    """HTTP validators of the version fetched before, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class CrlFetch:
    """One fetch attempt and what it observed."""

    url: str
    observed_at: datetime  # real arrival time, or the as-of the request carried
    stamped_with_as_of: bool
    http_status: int | None  # None when no HTTP answer came
    not_modified: bool  # 304: the version fetched before is still served
    path: Path | None  # staged body (None on 304 or error)
    size_bytes: int
    sha256: str | None
    etag: str | None
    last_modified: str | None
    error: str | None

    @property
    def validators(self) -> CrlValidators:
        return CrlValidators(self.etag, self.last_modified)
