"""Fetching CRLs from a server the test starts on 127.0.0.1: validators, 304, as-of stamps, size cap."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ctwatch.evidence.crl import CrlValidators
from ctwatch.sources.crl import AS_OF_HEADER, fetch_crl
from tests.crl.factory import T0, make_ca, make_crl

pytestmark = pytest.mark.integration
LIVE_TIME = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


class _CrlServer(ThreadingHTTPServer):
    body = b""
    seen_as_of: list[str | None]


class _Handler(BaseHTTPRequestHandler):
    server: _CrlServer

    def do_GET(self) -> None:
        self.server.seen_as_of.append(self.headers.get(AS_OF_HEADER))
        if self.path == "/missing.crl":
            self.send_error(404)
            return
        etag = '"' + hashlib.sha256(self.server.body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/pkix-crl")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", "Wed, 01 Jul 2020 00:00:00 GMT")
        if self.path != "/chunked.crl":  # no Content-Length: the cap must stop the reading itself
            self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def server() -> Iterator[_CrlServer]:
    httpd = _CrlServer(("127.0.0.1", 0), _Handler)
    httpd.body = make_crl(make_ca(), T0, [], crl_number=1)
    httpd.seen_as_of = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server: _CrlServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_fetch_then_not_modified(server: _CrlServer, tmp_path: Path) -> None:
    first = fetch_crl(_url(server, "/ca.crl"), tmp_path, clock=lambda: LIVE_TIME)
    assert first.error is None
    assert first.http_status == 200
    assert first.observed_at == LIVE_TIME
    assert not first.stamped_with_as_of
    assert first.sha256 == hashlib.sha256(server.body).hexdigest()
    assert first.path == tmp_path / f"{first.sha256}.crl"
    assert first.path.read_bytes() == server.body
    assert first.last_modified == "Wed, 01 Jul 2020 00:00:00 GMT"

    second = fetch_crl(_url(server, "/ca.crl"), tmp_path, previous=first.validators)
    assert second.not_modified
    assert second.http_status == 304
    assert second.path is None
    assert second.error is None


def test_as_of_travels_in_the_header_and_stamps_the_fetch(server: _CrlServer, tmp_path: Path) -> None:
    as_of = datetime(2020, 7, 2, 12, 0, tzinfo=UTC)
    fetched = fetch_crl(_url(server, "/ca.crl"), tmp_path, as_of=as_of, previous=CrlValidators())
    assert server.seen_as_of[-1] == "2020-07-02T12:00:00+00:00"
    assert fetched.observed_at == as_of
    assert fetched.stamped_with_as_of


@pytest.mark.parametrize("path", ["/ca.crl", "/chunked.crl"])
def test_size_cap(server: _CrlServer, tmp_path: Path, path: str) -> None:
    capped = fetch_crl(_url(server, path), tmp_path, max_bytes=100)
    assert capped.path is None
    assert capped.error is not None
    assert "exceeds the cap of 100 bytes" in capped.error
    assert list(tmp_path.iterdir()) == []  # the partial body is not left behind


def test_errors_are_records(server: _CrlServer, tmp_path: Path) -> None:
    missing = fetch_crl(_url(server, "/missing.crl"), tmp_path)
    assert (missing.http_status, missing.error) == (404, "HTTP 404")
    refused = fetch_crl("http://127.0.0.1:1/ca.crl", tmp_path, timeout_s=2)
    assert refused.http_status is None
    assert refused.error is not None
    assert refused.error.startswith("request failed")
