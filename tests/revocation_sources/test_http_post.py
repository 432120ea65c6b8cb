"""HttpClient.post against a server started here: the same retries, Retry-After, politeness and
as-of header as GET; the body and content type arrive intact. Time is injected: nothing waits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ctwatch.sources.http import AS_OF_HEADER, Clocks, FetchError, HttpClient, Politeness, RetryPolicy

pytestmark = pytest.mark.integration


@dataclass
class _Script:
    """Answers to give in order (status, headers); the last one repeats. Requests seen are kept."""

    answers: list[tuple[int, dict[str, str]]]
    seen: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    script: _Script


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        script = self.server.script
        script.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        status, headers = script.answers[min(len(script.seen), len(script.answers)) - 1]
        answer = b"echo:" + body if status == 200 else b"busy"
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.script = _Script([(200, {})])
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


class _FakeClocks(Clocks):
    """Monotonic time that moves only when the client sleeps; sleeps are recorded; jitter 0."""

    def __init__(self) -> None:
        self.now_s = 0.0
        self.sleeps: list[float] = []
        super().__init__(
            monotonic=lambda: self.now_s, wall=lambda: 0.0, sleep=self._sleep, jitter=lambda: 0.0
        )

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds


def _url(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_port}/ocsp"


def test_post_retries_a_503_after_its_retry_after_and_sends_body_type_and_as_of(server: _Server) -> None:
    server.script = _Script([(503, {"Retry-After": "7"}), (200, {})])
    clocks = _FakeClocks()
    as_of = datetime(2020, 7, 20, 6, tzinfo=UTC)
    client = HttpClient(Politeness(requests_per_second=1000.0, timeout_s=5), as_of=as_of, clocks=clocks)
    answer = client.post(_url(server), b"\x30\x03abc", bytes, content_type="application/ocsp-request")
    assert answer == b"echo:\x30\x03abc"
    assert clocks.sleeps == [7.0]
    assert len(server.script.seen) == 2
    path, headers, body = server.script.seen[-1]
    assert (path, body) == ("/ocsp", b"\x30\x03abc")
    assert headers["content-type"] == "application/ocsp-request"
    assert headers[AS_OF_HEADER.lower()] == "2020-07-20T06:00:00+00:00"


def test_post_gives_up_after_max_attempts_with_a_fetch_error(server: _Server) -> None:
    server.script = _Script([(500, {})])
    clocks = _FakeClocks()
    client = HttpClient(
        Politeness(requests_per_second=1000.0, timeout_s=5),
        retry=RetryPolicy(max_attempts=3, base_backoff_s=1.0),
        clocks=clocks,
    )
    with pytest.raises(FetchError) as raised:
        client.post(_url(server), b"q", bytes, content_type="application/ocsp-request")
    assert (raised.value.status, raised.value.attempts) == (500, 3)
    assert len(server.script.seen) == 3
    # back-off 1 s then 2 s (jitter 0 halves them), besides the rate spacing of 1 ms
    assert [s for s in clocks.sleeps if s > 0.01] == [0.5, 1.0]


def test_post_is_final_on_a_client_error_and_spaced_by_the_request_rate(server: _Server) -> None:
    server.script = _Script([(400, {})])
    clocks = _FakeClocks()
    client = HttpClient(Politeness(requests_per_second=2.0, timeout_s=5), clocks=clocks)
    for _ in range(2):
        with pytest.raises(FetchError) as raised:
            client.post(_url(server), b"q", bytes, content_type="application/ocsp-request")
        assert raised.value.attempts == 1
    assert len(server.script.seen) == 2
    assert clocks.sleeps == [0.5]  # the second POST waited for its turn
