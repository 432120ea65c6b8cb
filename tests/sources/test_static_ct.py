"""StaticCtClient on the real navigli2025h2 tiles and rome2024h1 checkpoint (served on 127.0.0.1 by a
fixture server) and on the simulator's static-ct log, through its fault modes."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctwatch.ct.merkle import ProofError
from ctwatch.sim.scenario import Fault, FaultKind
from ctwatch.sim.server import SimulatorRunning
from ctwatch.sources.http import FetchError, HttpClient, Politeness
from ctwatch.sources.rfc6962 import EntryBatch, TreeHeadError
from ctwatch.sources.static_ct import StaticCtClient, tile_path
from tests.sources.test_http import UNLIMITED, FakeClocks, FixtureServer, sim

pytestmark = pytest.mark.integration

REAL = Path(__file__).parents[1] / "fixtures" / "real" / "ct_api" / "static_ct"
NAVIGLI = REAL / "navigli2025h2" / "tile"
LOG = "sim-tiles"
__all__ = ["sim"]  # the module-scoped simulator fixture, shared with test_http


@pytest.fixture
def tiles(sim: SimulatorRunning) -> Iterator[tuple[SimulatorRunning, FakeClocks]]:
    sim.set_faults(LOG, [])
    yield sim, FakeClocks()
    sim.set_faults(LOG, [])


def _client(
    sim: SimulatorRunning, clocks: FakeClocks, as_of: datetime | None = None, **options: Path
) -> StaticCtClient:
    log = sim.world.logs[LOG]
    http = HttpClient(
        Politeness(requests_per_second=float("inf"), concurrency=2, timeout_s=5), as_of=as_of, clocks=clocks
    )
    origin = sim.simulator.origin(log)
    return StaticCtClient(sim.log_url(LOG), origin, log.public_key_der, http=http, **options)


def _indices(batches: list[EntryBatch]) -> list[int]:
    return [entry.index for batch in batches for entry in batch.entries]


def test_tile_paths_follow_c2sp_encoding() -> None:
    assert tile_path("data", 0) == "tile/data/000"
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 1000, 17) == "tile/2/x001/000.p/17"
    assert tile_path("data", 5, 256) == "tile/data/005"
    with pytest.raises(ValueError, match="partial tile width"):
        tile_path(0, 1, 0)


# -- real fixtures --


@pytest.mark.parametrize("encoding", ["plain", "content-encoding", "stored-gzip"])
def test_real_data_tile_yields_the_hashes_of_its_level_0_tile(encoding: str) -> None:
    data = (NAVIGLI / "data" / "000").read_bytes()
    headers: dict[str, str] = {}
    if encoding != "plain":
        data = gzip.compress(data)
    if encoding == "content-encoding":
        headers["Content-Encoding"] = "gzip"
    routes = {
        "/tile/data/000": (200, headers, data),
        "/tile/0/000": (200, {}, (NAVIGLI / "0" / "000").read_bytes()),
    }
    with FixtureServer(routes) as server:
        client = StaticCtClient(server.base_url, "navigli.sunlight.geomys.org/2025h2", b"", UNLIMITED)
        entries = client.data_tile(0)
        hashes = client.hash_tile(0, 0)
    assert len(entries) == 256
    assert [e.index for e in entries] == list(range(256))
    assert b"".join(e.leaf_hash for e in entries) == hashes


def test_real_data_tile_of_the_wrong_width_is_a_recorded_fetch_error() -> None:
    routes = {"/tile/data/000.p/200": (200, {}, (NAVIGLI / "data" / "000").read_bytes())}
    with FixtureServer(routes) as server:
        http = HttpClient(UNLIMITED, clocks=FakeClocks())
        client = StaticCtClient(server.base_url, "o", b"", http=http)
        with pytest.raises(FetchError) as caught:
            client.data_tile(0, 200)
    assert "holds 256 entries, not 200" in caught.value.reason


def test_real_rome_checkpoint_verifies_through_the_client() -> None:
    info = json.loads((REAL / "rome2024h1_checkpoint_verification.json").read_text())
    key = base64.b64decode(info["public_key_spki_b64"])
    note = (REAL / "rome2024h1_checkpoint.txt").read_bytes()
    with FixtureServer({"/2024h1/checkpoint": (200, {}, note)}) as server:
        checkpoint = StaticCtClient(server.base_url + "2024h1/", info["origin"], key, UNLIMITED).checkpoint()
        with pytest.raises(TreeHeadError) as caught:
            StaticCtClient(
                server.base_url + "2024h1/", "rome.ct.filippo.io/2025h1", key, UNLIMITED
            ).checkpoint()
    assert checkpoint.tree_size == info["verification"]["tree_size"]
    assert checkpoint.timestamp_ms == info["verification"]["timestamp"]
    assert checkpoint.note == note
    assert caught.value.served == note


def test_issuer_must_hash_to_its_fingerprint() -> None:
    der = b"not really a certificate"
    fingerprint = hashlib.sha256(der).digest()
    other = hashlib.sha256(b"other").digest()
    routes = {f"/issuer/{fingerprint.hex()}": (200, {}, der), f"/issuer/{other.hex()}": (200, {}, der)}
    with FixtureServer(routes) as server:
        client = StaticCtClient(server.base_url, "o", b"", UNLIMITED)
        assert client.issuer(fingerprint) == der
        with pytest.raises(ProofError) as caught:
            client.issuer(other)
    assert (caught.value.expected, caught.value.served) == (other.hex(), fingerprint.hex())


# -- the simulator --


def test_whole_log_and_mid_log_windows_verify_against_the_checkpoint(
    tiles: tuple[SimulatorRunning, FakeClocks],
) -> None:
    sim, clocks = tiles
    client = _client(sim, clocks)
    checkpoint = client.checkpoint()
    size = checkpoint.tree_size
    assert size == sim.world.logs[LOG].size
    assert size % 256  # the last data tile is partial
    for start, end in ((0, size), (0, 1), (300, 301), (255, 257), (700, 2100), (size - 300, size)):
        batches = list(client.entries(start, end, checkpoint))
        assert _indices(batches) == list(range(start, end))
        assert batches[0].start == start
        assert batches[-1].end_exclusive == end
        truth = sim.world.logs[LOG]
        assert all(e.leaf_hash == truth.leaf_hash(e.index) for b in batches for e in b.entries)


def test_issuers_are_fetched_once_and_cached_on_disk(
    tiles: tuple[SimulatorRunning, FakeClocks], tmp_path: Path
) -> None:
    sim, clocks = tiles
    client = _client(sim, clocks, issuer_cache_dir=tmp_path)
    checkpoint = client.checkpoint()
    fingerprints = {fp for b in client.entries(0, 256, checkpoint) for e in b.entries for fp in e.chain}
    before = sim.request_count(LOG, "issuer")
    ders = {fp: client.issuer(fp) for fp in fingerprints}
    assert all(hashlib.sha256(der).digest() == fp for fp, der in ders.items())
    assert {c.der for c in sim.world.ca_certs.values()} >= set(ders.values())
    assert sim.request_count(LOG, "issuer") - before == len(fingerprints)
    again = _client(sim, clocks, issuer_cache_dir=tmp_path)
    assert {fp: again.issuer(fp) for fp in fingerprints} == ders
    assert client.issuer(next(iter(fingerprints))) == ders[next(iter(fingerprints))]
    assert sim.request_count(LOG, "issuer") - before == len(fingerprints)


def test_corrupt_der_in_a_data_tile_is_never_accepted(tiles: tuple[SimulatorRunning, FakeClocks]) -> None:
    sim, clocks = tiles
    client = _client(sim, clocks)
    checkpoint = client.checkpoint()
    sim.set_faults(LOG, [Fault(FaultKind.CORRUPT_DER, first=1)])
    with pytest.raises(ProofError) as caught:
        list(client.entries(256, 1024, checkpoint))
    assert caught.value.expected == checkpoint.root_hash.hex()
    assert caught.value.served != checkpoint.root_hash.hex()


def test_bad_checkpoint_signature_raises_with_the_note(tiles: tuple[SimulatorRunning, FakeClocks]) -> None:
    sim, clocks = tiles
    sim.set_faults(LOG, [Fault(FaultKind.BAD_STH_SIGNATURE, first=1)])
    with pytest.raises(TreeHeadError) as caught:
        _client(sim, clocks).checkpoint()
    assert caught.value.served.startswith(sim.simulator.origin(sim.world.logs[LOG]).encode() + b"\n")


def test_inconsistent_tree_is_caught_by_the_tiles(tiles: tuple[SimulatorRunning, FakeClocks]) -> None:
    sim, clocks = tiles
    sim.set_faults(LOG, [Fault(FaultKind.INCONSISTENT_TREE, first=1)])
    client = _client(sim, clocks)
    forked = client.checkpoint()
    with pytest.raises(ProofError) as caught:
        list(client.entries(0, 512, forked))
    assert caught.value.expected == forked.root_hash.hex()


def test_rate_limited_tiles_are_retried_after_the_asked_delay(
    tiles: tuple[SimulatorRunning, FakeClocks],
) -> None:
    sim, clocks = tiles
    sim.set_faults(
        LOG, [Fault(FaultKind.RATE_LIMIT, first=2, retry_after_s=5, endpoints=frozenset({"data-tile"}))]
    )
    client = _client(sim, clocks)
    checkpoint = client.checkpoint()
    assert _indices(list(client.entries(0, 600, checkpoint))) == list(range(600))
    assert clocks.sleeps == [5.0, 5.0]


# -- checkpoint consistency --


def test_a_grown_log_is_proven_consistent_with_its_earlier_checkpoint_from_few_tiles(
    tiles: tuple[SimulatorRunning, FakeClocks],
) -> None:
    sim, clocks = tiles
    truth = sim.world.logs[LOG]
    as_of = datetime(2020, 7, 15, tzinfo=UTC)
    earlier = _client(sim, clocks, as_of).checkpoint()
    client = _client(sim, clocks)
    latest = client.checkpoint()
    assert 0 < earlier.tree_size < latest.tree_size
    before = sim.request_count(LOG, "tile")
    client.prove_consistency(earlier, latest)
    # a stale checkpoint served after a newer one is proven a prefix of it, not refused
    client.prove_consistency(latest, earlier)
    assert 0 < sim.request_count(LOG, "tile") - before <= 8
    # any earlier size, at or inside a tile boundary, given as (size, root) as the warehouse stores it
    for old_size in (1, 255, 256, 257, 300, 1000, latest.tree_size - 1, latest.tree_size):
        client.prove_consistency((old_size, truth.tree.root(old_size)), latest)


def test_an_earlier_root_that_the_tiles_do_not_give_is_refused_with_evidence(
    tiles: tuple[SimulatorRunning, FakeClocks],
) -> None:
    sim, clocks = tiles
    client = _client(sim, clocks)
    latest = client.checkpoint()
    claimed = hashlib.sha256(b"not the root of the first 300 entries").digest()
    with pytest.raises(ProofError) as caught:
        client.prove_consistency((300, claimed), latest)
    assert caught.value.expected == claimed.hex()
    assert caught.value.served == sim.world.logs[LOG].tree.root(300).hex()


def test_a_checkpoint_of_a_forked_tree_is_not_consistent_with_the_honest_one(
    tiles: tuple[SimulatorRunning, FakeClocks],
) -> None:
    sim, clocks = tiles
    truth = sim.world.logs[LOG]
    client = _client(sim, clocks)
    honest = client.checkpoint()
    sim.set_faults(LOG, [Fault(FaultKind.INCONSISTENT_TREE, first=1)])
    forked = client.checkpoint()
    assert forked.root_hash != honest.root_hash
    # The forked head is validly signed, but the tiles of the tree the log publishes do not give it.
    with pytest.raises(ProofError) as caught:
        client.prove_consistency((300, truth.tree.root(300)), forked)
    assert caught.value.expected == forked.root_hash.hex()
    assert caught.value.served == truth.tree.root(forked.tree_size).hex()
