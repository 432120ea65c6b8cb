"""Shared fixtures: the packaged small scenario, generated once per session into a temp cache."""

from __future__ import annotations

import base64
import json
import struct
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ctwatch.sim.scenario import Scenario, load_scenario
from ctwatch.sim.server import SimulatorRunning

SMALL = Path(__file__).parents[2] / "include" / "ctwatch" / "sim" / "scenarios" / "small.toml"


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    return load_scenario(SMALL)


@pytest.fixture(scope="session")
def sim_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sim-cache")


@pytest.fixture
def sim(small_scenario: Scenario, sim_cache: Path) -> Iterator[SimulatorRunning]:
    """A fresh server (fault counters at zero) over the cached world."""
    with SimulatorRunning(small_scenario, cache_dir=sim_cache) as running:
        yield running


def fetch(url: str, *, as_of: str | None = None, gzip_ok: bool = False) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a GET, errors included."""
    headers = {"X-Ctwatch-As-Of": as_of} if as_of else {}
    if gzip_ok:
        headers["Accept-Encoding"] = "gzip"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def fetch_json(url: str, **options: Any) -> Any:
    status, _, body = fetch(url, **options)
    assert status == 200, body
    return json.loads(body)


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def parse_crlset(data: bytes) -> tuple[dict[str, Any], dict[bytes, list[int]]]:
    """A CRLSet file: its JSON header, and the revoked serials per parent SPKI SHA-256."""
    (length,) = struct.unpack_from("<H", data)
    header = json.loads(data[2 : 2 + length])
    pos, parents = 2 + length, {}
    while pos < len(data):
        spki_hash, (count,) = data[pos : pos + 32], struct.unpack_from("<I", data, pos + 32)
        pos += 36
        serials = []
        for _ in range(count):
            size = data[pos]
            serials.append(int.from_bytes(data[pos + 1 : pos + 1 + size], "big"))
            pos += 1 + size
        parents[spki_hash] = serials
    return header, parents
