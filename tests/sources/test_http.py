"""The HTTP layer against servers started here on 127.0.0.1: the simulator's fault modes, a refused
port, a server that never answers, and a fixture server. Time is injected, so nothing really waits."""

from __future__ import annotations

import gzip
import itertools
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ctwatch.sim.scenario import Fault, FaultKind, load_scenario
from ctwatch.sim.server import AS_OF_HEADER as SIM_AS_OF_HEADER
from ctwatch.sim.server import SimulatorRunning
from ctwatch.sources.http import (
    AS_OF_HEADER,
    BodyError,
    Clocks,
    FetchError,
    HttpClient,
    Politeness,
    RetryPolicy,
    parse_retry_after,
)

pytestmark = pytest.mark.integration

SMALL = Path(__file__).parents[2] / "include" / "ctwatch" / "sim" / "scenarios" / "small.toml"
UNLIMITED = Politeness(requests_per_second=float("inf"), timeout_s=5)


class FakeClocks(Clocks):
    """Monotonic time that only moves when the client sleeps; sleeps are recorded, jitter is 0."""

    def __init__(self, wall_s: float = 1_600_000_000.0) -> None:
        self.now_s = 0.0
        self.sleeps: list[float] = []
        super().__init__(
            monotonic=lambda: self.now_s, wall=lambda: wall_s, sleep=self._sleep, jitter=lambda: 0.0
        )

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds


class FixtureServer:
    """Serves fixed answers on 127.0.0.1: path (without query) -> (status, headers, body)."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                status, headers, body = server.routes.get(path, (404, {}, b"not found"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FixtureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorRunning]:
    with SimulatorRunning(load_scenario(SMALL), cache_dir=tmp_path_factory.mktemp("sim-cache")) as running:
        yield running


def _sth_url(sim: SimulatorRunning) -> str:
    return sim.log_url("sim-argon") + "ct/v1/get-sth"


def _client(clocks: FakeClocks, politeness: Politeness = UNLIMITED, **retry: Any) -> HttpClient:
    return HttpClient(politeness, retry=RetryPolicy(**retry), clocks=clocks)


def test_retry_after_seconds_on_429_is_honoured(sim: SimulatorRunning) -> None:
    sim.set_faults("sim-argon", [Fault(FaultKind.RATE_LIMIT, first=2, retry_after_s=7)])
    clocks = FakeClocks()
    before = sim.request_count("sim-argon", "get-sth")
    body = _client(clocks).get(_sth_url(sim), bytes)
    assert b"tree_size" in body
    assert clocks.sleeps == [7.0, 7.0]
    assert sim.request_count("sim-argon", "get-sth") - before == 3


def test_503_honours_retry_after_other_5xx_back_off_exponentially(sim: SimulatorRunning) -> None:
    sim.set_faults("sim-argon", [Fault(FaultKind.SERVER_ERROR, first=1, status=503)])
    clocks = FakeClocks()
    _client(clocks).get(_sth_url(sim), bytes)
    assert clocks.sleeps == [1.0]  # the simulator's Retry-After: 1

    sim.set_faults("sim-argon", [Fault(FaultKind.SERVER_ERROR, first=3, status=500)])
    clocks = FakeClocks()
    _client(clocks, base_backoff_s=0.5).get(_sth_url(sim), bytes)
    assert clocks.sleeps == [0.25, 0.5, 1.0]  # base * 2**n, jitter 0 -> half of it


def test_persistent_5xx_fails_after_bounded_attempts_with_the_evidence(sim: SimulatorRunning) -> None:
    sim.set_faults("sim-argon", [Fault(FaultKind.SERVER_ERROR, every=1, status=502)])
    clocks = FakeClocks()
    with pytest.raises(FetchError) as caught:
        _client(clocks, max_attempts=3).get(_sth_url(sim), bytes)
    assert (caught.value.url, caught.value.status, caught.value.attempts) == (_sth_url(sim), 502, 3)
    assert "server error (simulated)" in caught.value.reason
    assert len(clocks.sleeps) == 2


def test_4xx_is_not_retried(sim: SimulatorRunning) -> None:
    sim.set_faults("sim-argon", [])
    clocks = FakeClocks()
    url = sim.log_url("sim-argon") + "ct/v1/get-entries"
    with pytest.raises(FetchError) as caught:
        _client(clocks).get(url, bytes, params={"start": 10**9, "end": 10**9})
    assert (caught.value.status, caught.value.attempts, clocks.sleeps) == (400, 1, [])


def test_retry_after_longer_than_the_policy_allows_returns_at_once(sim: SimulatorRunning) -> None:
    sim.set_faults("sim-argon", [Fault(FaultKind.RATE_LIMIT, first=1, retry_after_s=3600)])
    clocks = FakeClocks()
    with pytest.raises(FetchError) as caught:
        _client(clocks, max_retry_after_s=60).get(_sth_url(sim), bytes)
    assert (caught.value.status, caught.value.attempts, clocks.sleeps) == (429, 1, [])
    assert "Retry-After 3600s" in caught.value.reason


def test_unusable_body_is_retried_then_reported(sim: SimulatorRunning) -> None:
    sim.set_faults("sim-argon", [])
    seen: list[int] = []

    def reject(body: bytes) -> bytes:
        seen.append(len(body))
        raise BodyError("not what we wanted")

    with pytest.raises(FetchError) as caught:
        _client(FakeClocks(), max_attempts=2).get(_sth_url(sim), reject)
    assert len(seen) == 2
    assert (caught.value.status, caught.value.attempts) == (200, 2)
    assert "not what we wanted" in caught.value.reason


def test_refused_connection_is_retried_and_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clocks = FakeClocks()
    with pytest.raises(FetchError) as caught:
        _client(clocks, max_attempts=3).get(f"http://127.0.0.1:{port}/ct/v1/get-sth", bytes)
    assert (caught.value.status, caught.value.attempts) == (None, 3)
    assert caught.value.reason.startswith("connection failed")
    assert len(clocks.sleeps) == 2


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog, nobody ever reads or answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/checkpoint"
        politeness = Politeness(requests_per_second=float("inf"), timeout_s=0.2)
        with pytest.raises(FetchError) as caught:
            _client(FakeClocks(), politeness, max_attempts=2).get(url, bytes)
    assert caught.value.reason.startswith("timeout after 0.2s")
    assert caught.value.attempts == 2


def test_a_body_is_capped_by_its_size_after_decompression() -> None:
    cap = 1024 * 1024
    bomb = gzip.compress(bytes(16 * cap))  # 16 MiB of zeros in a few kilobytes
    gzipped = {"Content-Encoding": "gzip"}
    routes = {"/bomb": (200, gzipped, bomb), "/fits": (200, gzipped, gzip.compress(bytes(cap)))}
    politeness = Politeness(requests_per_second=float("inf"), max_body_bytes=cap, settings_table="[ct]")
    with FixtureServer(routes) as server:
        client = _client(FakeClocks(), politeness)
        assert client.get(server.base_url + "fits", bytes) == bytes(cap)
        with pytest.raises(FetchError) as caught:
            client.get(server.base_url + "bomb", bytes)
    assert caught.value.reason == f"body larger than {cap} bytes ([ct] max_body_bytes): stopped reading"
    assert caught.value.attempts == 1  # the same answer would come again


def test_an_answer_slower_than_its_deadline_is_abandoned(sim: SimulatorRunning) -> None:
    # each look at the clock is 20 s later: the body's second piece arrives past the 30 s deadline
    ticks = itertools.count(step=20.0)
    clocks = Clocks(monotonic=lambda: next(ticks), sleep=lambda _: None, jitter=lambda: 0.0)
    politeness = Politeness(requests_per_second=float("inf"), response_deadline_s=30.0)
    sim.set_faults("sim-argon", [Fault(FaultKind.ENDLESS_BODY, first=1, bytes_per_second=1000)])
    try:
        with pytest.raises(FetchError) as caught:
            HttpClient(politeness, clocks=clocks).get(_sth_url(sim), bytes)
    finally:
        sim.set_faults("sim-argon", [])
    assert caught.value.reason.startswith("answer not complete after 30 s (response_deadline_s; ")
    assert caught.value.attempts == 1


def test_requests_are_spaced_by_the_rate_limit(sim: SimulatorRunning) -> None:
    sim.set_faults("sim-argon", [])
    clocks = FakeClocks()
    client = _client(clocks, Politeness(requests_per_second=4))
    for _ in range(3):
        client.get(_sth_url(sim), bytes)
    assert clocks.sleeps == [0.25, 0.25]


def test_as_of_travels_as_the_simulator_header() -> None:
    assert AS_OF_HEADER == SIM_AS_OF_HEADER
    with FixtureServer({"/checkpoint": (200, {}, b"x")}) as server:
        HttpClient(UNLIMITED, as_of=datetime(2020, 7, 1, tzinfo=UTC)).get(
            server.base_url + "checkpoint", bytes
        )
        HttpClient(UNLIMITED).get(server.base_url + "checkpoint", bytes)
    assert server.requests[0][1][AS_OF_HEADER.lower()] == "2020-07-01T00:00:00+00:00"
    assert AS_OF_HEADER.lower() not in server.requests[1][1]


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    now_s = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after("120", now_s) == 120.0
    assert parse_retry_after("Fri, 01 Mar 2024 12:00:30 GMT", now_s) == 30.0
    assert parse_retry_after("Fri, 01 Mar 2024 11:00:00 GMT", now_s) == 0.0  # in the past: go now
    assert parse_retry_after("soon", now_s) is None
    assert parse_retry_after(None, now_s) is None


def test_politeness_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Politeness(batch_size=0)
    with pytest.raises(ValueError, match="positive"):
        Politeness(requests_per_second=0)
