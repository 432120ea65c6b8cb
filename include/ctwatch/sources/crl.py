"""Fetch a CRL over HTTP: conditional GET, streamed to a staged file, size-capped, stamped.

The response body goes to disk in CHUNK_BYTES pieces and is never whole in memory; the staged file
is named by its SHA-256, so an identical re-fetch lands on the same file. Every fetch returns a
CrlFetch record, errors included (nothing raises for a network or server problem).

Observation stamp (docs/design.md, the stamping rule): a live fetch is stamped with the real time the answer
arrived; a request to a simulator or archive that carries `as_of` (header X-Ctwatch-As-Of) is stamped
with that as-of time, because the answer represents the world as of then.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import requests

from ctwatch.evidence.crl import CrlFetch, CrlValidators
from ctwatch.timeutil import require_aware

AS_OF_HEADER = "X-Ctwatch-As-Of"
DEFAULT_MAX_BYTES = 2 * 1024**3
DEFAULT_TIMEOUT_S = 60.0
CHUNK_BYTES = 1 << 20
USER_AGENT = "ctwatch-crl-fetcher"


def _now() -> datetime:
    return datetime.now(UTC)


def fetch_crl(
    url: str,
    staging_dir: Path,
    *,
    previous: CrlValidators | None = None,
    as_of: datetime | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    session: requests.Session | None = None,
    clock: Callable[[], datetime] = _now,
) -> CrlFetch:
    """GET `url` into `staging_dir/<sha256>.crl`, conditionally when `previous` validators are given.

    `as_of` (timezone-aware) travels in the X-Ctwatch-As-Of header and becomes the observation stamp.
    A body larger than `max_bytes` is not kept: reading stops at the cap and the record says why.
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
                f"CRL of {int(declared)} bytes (Content-Length) exceeds the cap of {max_bytes} bytes",
                response=response,
            )
        staging_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        handle, part_name = tempfile.mkstemp(dir=staging_dir, suffix=".part")
        part = Path(part_name)
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in response.iter_content(CHUNK_BYTES):
                    size += len(chunk)
                    if size > max_bytes:
                        part.unlink()
                        return record(
                            arrived_at,
                            200,
                            f"CRL exceeds the cap of {max_bytes} bytes: stopped reading",
                            response=response,
                        )
                    digest.update(chunk)
                    out.write(chunk)
        except (requests.RequestException, OSError) as exc:
            part.unlink(missing_ok=True)
            return record(arrived_at, 200, f"body not received: {exc}", response=response)
        sha256 = digest.hexdigest()
        staged = staging_dir / f"{sha256}.crl"
        part.replace(staged)
        return record(arrived_at, 200, None, response=response, path=staged, size_bytes=size, sha256=sha256)
