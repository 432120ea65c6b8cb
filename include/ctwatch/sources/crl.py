"""Fetch a CRL over HTTP: conditional GET, streamed to a staged file, size-capped, stamped.

The response body goes to disk in pieces of at most CHUNK_BYTES and is never whole in memory; the
staged file is named by its SHA-256, so an identical re-fetch lands on the same file. Every fetch
returns a CrlFetch record, errors included (nothing raises for a network or server problem): a body
over `max_bytes` ([sources.crl] max_body_bytes) or still arriving after `deadline_s`
([sources.crl] response_deadline_s) is not read further and its record says so. A staged file that
cannot be written here (a full disk) is no fact about the CA: that raises StagingError.

Observation stamp (docs/design.md, the stamping rule): a live fetch is stamped with the real time the answer
arrived; a request to a simulator or archive that carries `as_of` (header X-Ctwatch-As-Of) is stamped
with that as-of time, because the answer represents the world as of then.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import requests
import urllib3

from ctwatch.evidence.crl import CrlFetch, CrlValidators
from ctwatch.sources.staging import StagingError
from ctwatch.timeutil import require_aware

AS_OF_HEADER = "X-Ctwatch-As-Of"
DEFAULT_MAX_BYTES = 2 * 1024**3
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_DEADLINE_S = 600.0
CHUNK_BYTES = 1 << 20
USER_AGENT = "ctwatch-crl-fetcher"
MAX_BYTES_SETTING = "[sources.crl] max_body_bytes"
DEADLINE_SETTING = "[sources.crl] response_deadline_s"


def _now() -> datetime:
    return datetime.now(UTC)


class _NotReceived(Exception):
    """The body did not arrive whole (the network, the cap, the deadline): recorded, not raised."""


def _read(response: requests.Response, most: int) -> bytes:
    """The next piece of the decompressed body, at most `most` bytes (b"" at its end), whatever has
    arrived: a body that trickles still lets the deadline be checked."""
    try:
        piece: bytes = response.raw.read1(most, decode_content=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _NotReceived(f"body not received: {exc}") from exc
    return piece


def fetch_crl(
    url: str,
    staging_dir: Path,
    *,
    previous: CrlValidators | None = None,
    as_of: datetime | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    deadline_s: float = DEFAULT_DEADLINE_S,
    session: requests.Session | None = None,
    clock: Callable[[], datetime] = _now,
) -> CrlFetch:
    """GET `url` into `staging_dir/<sha256>.crl`, conditionally when `previous` validators are given.

    `as_of` (timezone-aware) travels in the X-Ctwatch-As-Of header and becomes the observation stamp.
    A body larger than `max_bytes`, or not complete `deadline_s` after the request, is not kept:
    reading stops and the record says why. Raises StagingError if the file cannot be written.
    """
    if as_of is not None:
        require_aware(as_of, "as_of")
    headers = {"User-Agent": USER_AGENT, "Accept": "application/pkix-crl, */*"}
    if previous is not None and previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous is not None and previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    if as_of is not None:
        headers[AS_OF_HEADER] = as_of.astimezone(UTC).isoformat()
    http = session or requests.Session()

    def record(
        observed_at: datetime,
        status: int | None,
        error: str | None,
        *,
        response: requests.Response | None = None,
        path: Path | None = None,
        size_bytes: int = 0,
        sha256: str | None = None,
    ) -> CrlFetch:
        return CrlFetch(
            url=url,
            observed_at=as_of.astimezone(UTC) if as_of is not None else observed_at,
            stamped_with_as_of=as_of is not None,
            http_status=status,
            not_modified=status == 304,
            path=path,
            size_bytes=size_bytes,
            sha256=sha256,
            etag=None if response is None else response.headers.get("ETag"),
            last_modified=None if response is None else response.headers.get("Last-Modified"),
            error=error,
        )

    started_s = time.monotonic()
    try:
        response = http.get(url, headers=headers, stream=True, timeout=timeout_s)
    except requests.RequestException as exc:
        return record(clock(), None, f"request failed: {exc}")
    arrived_at = clock()
    with response:
        if response.status_code == 304:
            return record(arrived_at, 304, None, response=response)
        if response.status_code != 200:
            return record(arrived_at, response.status_code, f"HTTP {response.status_code}", response=response)
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            return record(
                arrived_at,
                200,
                f"CRL of {int(declared)} bytes (Content-Length) exceeds the cap of {max_bytes} bytes "
                f"({MAX_BYTES_SETTING})",
                response=response,
            )
        try:
            staging_dir.mkdir(parents=True, exist_ok=True)
            handle, part_name = tempfile.mkstemp(dir=staging_dir, suffix=".part")
        except OSError as exc:
            raise StagingError(staging_dir, staging_dir / "(a new .part file)", exc) from exc
        part = Path(part_name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(handle, "wb") as out:
                # never more than one byte past the cap: enough to know the CRL is over it
                while chunk := _read(response, min(CHUNK_BYTES, max_bytes - size + 1)):
                    size += len(chunk)
                    if size > max_bytes:
                        raise _NotReceived(
                            f"CRL exceeds the cap of {max_bytes} bytes ({MAX_BYTES_SETTING}): stopped reading"
                        )
                    if time.monotonic() - started_s > deadline_s:
                        raise _NotReceived(
                            f"CRL not complete after {deadline_s:g} s ({DEADLINE_SETTING}; {size} bytes "
                            "read): stopped reading"
                        )
                    digest.update(chunk)
                    out.write(chunk)
        except _NotReceived as exc:
            part.unlink(missing_ok=True)
            return record(arrived_at, 200, str(exc), response=response)
        except OSError as exc:  # only writing (and closing) the staged file is left to fail here
            part.unlink(missing_ok=True)
            raise StagingError(staging_dir, part, exc) from exc
        sha256 = digest.hexdigest()
        staged = staging_dir / f"{sha256}.crl"
        part.replace(staged)
        return record(arrived_at, 200, None, response=response, path=staged, size_bytes=size, sha256=sha256)
