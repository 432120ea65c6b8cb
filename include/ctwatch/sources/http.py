"""HTTP plumbing shared by the CT and revocation clients: politeness, retries with back-off, one error type.

- `Politeness` is data (per log): batch size, request rate, concurrency, timeout, and the limits of
  one answer: its body (bytes after decompression) and its deadline (first byte to last). An answer
  over either is never read further and fails for good, naming the setting that sets the limit: a
  log serving an endless or trickling body cannot exhaust memory or hold a task forever.
- `RetryPolicy` bounds retries: 429, 5xx, connection errors, timeouts and bodies that do not
  decode (a truncated JSON answer) are retried with exponential back-off and jitter; a
  `Retry-After` on 429/503 (seconds or an HTTP date) is honoured exactly. Other 4xx are final.
- Every failure surfaces as `FetchError(url, status, attempts, reason)`, which callers record.
- Clock, wall clock, sleep and jitter source are injectable, so back-off is testable without waiting.
- `as_of` sends the simulator's as-of header (`X-Ctwatch-As-Of`, RFC 3339); real services ignore it.
"""

from __future__ import annotations

import email.utils
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import requests
import urllib3
from requests.adapters import HTTPAdapter

# Same value as ctwatch.sim.server.AS_OF_HEADER; not imported so that sources never depend on the simulator.
AS_OF_HEADER = "X-Ctwatch-As-Of"
USER_AGENT = "ctwatch/0.1 (+certificate transparency monitor)"
_RETRY_AFTER_STATUSES = frozenset({429, 503})
# Bodies are read in pieces of at most this size, so the caps are checked as the body arrives.
READ_CHUNK_BYTES = 1 << 20
DEFAULT_MAX_BODY_BYTES = 64 * 1024**2
DEFAULT_RESPONSE_DEADLINE_S = 300.0

T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Politeness:
    """How hard one log may be asked: entries per request, request starts per second (math.inf: no
    limit), requests in flight at once, the connect/read timeout of one request; and how much one
    answer may take: `max_body_bytes` (after decompression) and `response_deadline_s` (from the
    request to the body's last byte). `settings_table` names where the limits are configured (e.g.
    "[ct]"), for the error that reports one."""

    batch_size: int = 256
    requests_per_second: float = 10.0
    concurrency: int = 1
    timeout_s: float = 30.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    response_deadline_s: float = DEFAULT_RESPONSE_DEADLINE_S
    settings_table: str = ""

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.concurrency < 1 or self.max_body_bytes < 1:
            raise ValueError("batch_size, concurrency and max_body_bytes must be at least 1")
        if not self.requests_per_second > 0 or not self.timeout_s > 0 or not self.response_deadline_s > 0:
            raise ValueError("requests_per_second, timeout_s and response_deadline_s must be positive")

    def setting(self, key: str) -> str:
        """`key` as ctwatch.toml spells it, in the table these limits come from."""
        return f"{self.settings_table} {key}" if self.settings_table else key


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries: `max_attempts` tries in all; back-off base * 2**(retry - 1) capped at
    `max_backoff_s`, then jittered to [50 %, 100 %]; a Retry-After longer than `max_retry_after_s`
    is not waited for (the error goes back to the caller, who reschedules)."""

    max_attempts: int = 5
    base_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff_s(self, retry: int, jitter: float) -> float:
        """Delay before retry number `retry` (1-based), `jitter` in [0, 1)."""
        ceiling = min(self.max_backoff_s, self.base_backoff_s * 2.0 ** (retry - 1))
        return ceiling * (0.5 + jitter / 2)


class FetchError(Exception):
    """A request that failed for good: `status` is the last HTTP status (None: no answer)."""

    def __init__(self, url: str, status: int | None, attempts: int, reason: str) -> None:
        self.url = url
        self.status = status
        self.attempts = attempts
        self.reason = reason
        super().__init__(f"{url}: {reason} (status {status}, {attempts} attempt(s))")


class BodyError(ValueError):
    """Raised by a body decoder: the answer was 200 but unusable (truncated, not the schema); retried."""


class _OverLimit(Exception):
    """An answer went over its body cap or deadline: reading stopped, the connection is dropped."""


@dataclass(slots=True)
class _Attempt:
    """Outcome of one try: the status, and for a failure its reason and the wait it asks for."""

    status: int | None
    reason: str = ""
    retryable: bool = False
    retry_after_s: float | None = None


@dataclass(slots=True)
class Clocks:
    """Injectable time: `monotonic` for rate limiting, `wall` for Retry-After dates, `sleep`, `jitter`."""

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = field(default_factory=lambda: random.Random().random)  # noqa: S311 - back-off jitter, not a secret


def parse_retry_after(value: str | None, now_s: float) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date); None if absent or invalid."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp() - now_s
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


class HttpClient:
    """GETs (and query POSTs) with politeness and retries over one `requests.Session`; safe to share
    between threads."""

    def __init__(
        self,
        politeness: Politeness,
        *,
        retry: RetryPolicy | None = None,
        as_of: datetime | None = None,
        session: requests.Session | None = None,
        clocks: Clocks | None = None,
    ) -> None:
        self.politeness = politeness
        self.retry = retry or RetryPolicy()
        self.clocks = clocks or Clocks()
        self._session = session or requests.Session()
        adapter = HTTPAdapter(pool_maxsize=politeness.concurrency, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}
        if as_of is not None:
            moment = as_of if as_of.tzinfo is not None else as_of.replace(tzinfo=UTC)
            self._headers[AS_OF_HEADER] = moment.astimezone(UTC).isoformat()
        self._in_flight = threading.BoundedSemaphore(politeness.concurrency)
        self._rate_lock = threading.Lock()
        self._next_start_s = -math.inf

    def close(self) -> None:
        self._session.close()

    def get(
        self, url: str, decode: Callable[[bytes], T], *, params: Mapping[str, str | int] | None = None
    ) -> T:
        """GET `url` and return `decode(body)`; `decode` raises BodyError for an unusable body.

        Retries what may succeed later (see module docstring); raises FetchError otherwise.
        """
        return self._with_retries(url, decode, lambda: self._request("GET", url, params=params))

    def post(self, url: str, body: bytes, decode: Callable[[bytes], T], *, content_type: str) -> T:
        """POST `body` to `url` and return `decode(answer)`, with the politeness and retries of `get`.

        Only for requests that are queries (OCSP): repeating one after a lost answer is harmless.
        """
        return self._with_retries(
            url, decode, lambda: self._request("POST", url, data=body, content_type=content_type)
        )

    def _with_retries(
        self, url: str, decode: Callable[[bytes], T], send: Callable[[], tuple[_Attempt, bytes | None]]
    ) -> T:
        last = _Attempt(status=None, reason="no attempt")
        for attempt in range(1, self.retry.max_attempts + 1):
            last, body = send()
            if body is not None:
                try:
                    return decode(body)
                except BodyError as exc:
                    last = _Attempt(200, f"unusable body ({len(body)} bytes): {exc}", retryable=True)
            if not last.retryable or attempt == self.retry.max_attempts:
                break
            wait_s = self.retry.backoff_s(attempt, self.clocks.jitter())
            if last.retry_after_s is not None:
                if last.retry_after_s > self.retry.max_retry_after_s:
                    last.reason += f"; Retry-After {last.retry_after_s:.0f}s is longer than we wait"
                    break
                wait_s = last.retry_after_s
            self.clocks.sleep(wait_s)
        raise FetchError(url, last.status, attempt, last.reason)

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
    ) -> tuple[_Attempt, bytes | None]:
        """One polite try: the body of a 200 answer, or why there is none."""
        headers = self._headers if content_type is None else {**self._headers, "Content-Type": content_type}
        with self._in_flight:
            self._wait_for_turn()
            started_s = self.clocks.monotonic()
            try:
                with self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=self.politeness.timeout_s,
                    stream=True,
                ) as response:
                    body = self._read_body(response, started_s)
            except _OverLimit as exc:
                return _Attempt(response.status_code, str(exc)), None
            except (requests.Timeout, urllib3.exceptions.TimeoutError) as exc:
                reason = f"timeout after {self.politeness.timeout_s}s: {exc}"
                return _Attempt(None, reason, retryable=True), None
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                return _Attempt(None, f"connection failed: {exc}", retryable=True), None
        status = response.status_code
        if status == 200:
            return _Attempt(status), body
        retry_after = None
        if status in _RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self.clocks.wall())
        snippet = body[:200].decode("utf-8", "replace")
        retryable = status == 429 or status >= 500
        return _Attempt(status, f"HTTP {status}: {snippet}", retryable, retry_after), None

    def _read_body(self, response: requests.Response, started_s: float) -> bytes:
        """The decompressed body, read piece by piece (large pieces: a get-entries body is megabytes,
        and requests' 10 kB chunks cost a third of the transport CPU). Raises _OverLimit as soon as
        it grows past `max_body_bytes` or the answer outlasts `response_deadline_s`; the socket
        timeout alone would never end a body that keeps trickling."""
        limits = self.politeness
        pieces: list[bytes] = []
        size = 0
        # never more than one byte past the cap: enough to know the body is over it
        while piece := response.raw.read1(
            min(READ_CHUNK_BYTES, limits.max_body_bytes - size + 1), decode_content=True
        ):
            size += len(piece)
            if size > limits.max_body_bytes:
                raise _OverLimit(
                    f"body larger than {limits.max_body_bytes} bytes "
                    f"({limits.setting('max_body_bytes')}): stopped reading"
                )
            if self.clocks.monotonic() - started_s > limits.response_deadline_s:
                raise _OverLimit(
                    f"answer not complete after {limits.response_deadline_s:g} s "
                    f"({limits.setting('response_deadline_s')}; {size} bytes read): stopped reading"
                )
            pieces.append(piece)
        return b"".join(pieces)

    def _wait_for_turn(self) -> None:
        """Space request starts by 1 / requests_per_second (all threads of this client together)."""
        interval_s = 1.0 / self.politeness.requests_per_second
        if interval_s == 0:
            return
        with self._rate_lock:
            now_s = self.clocks.monotonic()
            start_s = max(now_s, self._next_start_s)
            self._next_start_s = start_s + interval_s
        if start_s > now_s:
            self.clocks.sleep(start_s - now_s)


def join_url(base_url: str, path: str) -> str:
    """`base_url` (with or without a trailing slash) followed by `path`."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def fetch_in_order(concurrency: int, tasks: Iterable[tuple[K, Callable[[], T]]]) -> Iterator[tuple[K, T]]:
    """Run `tasks` with up to `concurrency` of them in flight, yielding (key, result) in task order.

    The next request is on the wire while the caller decodes the previous answer. A failing task
    raises from here in order; the tasks still pending are cancelled.
    """
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ctwatch-fetch") as pool:
        pending: deque[tuple[K, Future[T]]] = deque()
        try:
            for key, task in tasks:
                pending.append((key, pool.submit(task)))
                if len(pending) > concurrency:
                    done_key, future = pending.popleft()
                    yield done_key, future.result()
            while pending:
                done_key, future = pending.popleft()
                yield done_key, future.result()
        finally:
            for _, future in pending:
                future.cancel()
