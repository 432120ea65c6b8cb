"""Rfc6962Client on the real fixtures (served on 127.0.0.1 by a fixture server) and on the simulator,
through every fault mode: a recorded error and a retry, or flagged evidence, never a wrong entry."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ctwatch.ct.entries import EntryType
from ctwatch.ct.merkle import ProofError
from ctwatch.ct.signatures import SignedTreeHead
from ctwatch.sim.scenario import Fault, FaultKind
from ctwatch.sim.server import SimulatorRunning
from ctwatch.sources.http import FetchError, HttpClient, Politeness
from ctwatch.sources.rfc6962 import EntryBatch, Rfc6962Client, TreeHeadError
from tests.sources.test_http import UNLIMITED, FakeClocks, FixtureServer, sim

pytestmark = pytest.mark.integration

REAL = Path(__file__).parents[1] / "fixtures" / "real" / "ct_api" / "rfc6962"
SUMMARY = json.loads((REAL / "_verification_and_parse_summary.json").read_text())
LOG = "sim-argon"  # max_batch = 100
AS_OF = datetime(2020, 7, 1, tzinfo=UTC)
__all__ = ["sim"]  # the module-scoped simulator fixture, shared with test_http


def _pilot_key() -> bytes:
    key = serialization.load_pem_public_key((REAL / "pilot_log_public_key.pem").read_bytes())
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _sth_route(name: str) -> dict[str, tuple[int, dict[str, str], bytes]]:
    return {"/ct/v1/get-sth": (200, {}, (REAL / name).read_bytes())}


@pytest.fixture
def argon(sim: SimulatorRunning) -> Iterator[tuple[SimulatorRunning, FakeClocks]]:
    """The simulator with no faults on sim-argon, and the clocks of the client `_client` builds."""
    sim.set_faults(LOG, [])
    yield sim, FakeClocks()
    sim.set_faults(LOG, [])


def _client(
    sim: SimulatorRunning,
    clocks: FakeClocks,
    *,
    batch_size: int = 256,
    concurrency: int = 1,
    as_of: datetime | None = None,
) -> Rfc6962Client:
    politeness = Politeness(batch_size, float("inf"), concurrency, timeout_s=5)
    http = HttpClient(politeness, clocks=clocks, as_of=as_of)
    return Rfc6962Client(sim.log_url(LOG), sim.world.logs[LOG].public_key_der, http=http)


def _collect(batches: Iterator[EntryBatch]) -> list[EntryBatch]:
    return list(batches)


def _indices(batches: list[EntryBatch]) -> list[int]:
    return [entry.index for batch in batches for entry in batch.entries]


# -- real fixtures --


def test_real_pilot_and_argon_tree_heads_verify_through_the_client() -> None:
    argon_key = base64.b64decode(SUMMARY["argon2024_get-sth_2024-03-28.json"]["key_b64"])
    for name, key, size in (
        ("pilot_get-sth_2014-04-04.json", _pilot_key(), 3721782),
        ("argon2024_get-sth_2024-03-28.json", argon_key, 1267285836),
    ):
        with FixtureServer(_sth_route(name)) as server:
            sth = Rfc6962Client(server.base_url, key, UNLIMITED).get_sth()
        assert sth.tree_size == size
        assert sth.root_hash == base64.b64decode(json.loads((REAL / name).read_text())["sha256_root_hash"])


def test_real_tree_head_with_a_fake_signature_is_rejected_with_the_served_body() -> None:
    route = _sth_route("get-sth_size4_FAKE_SIGNATURE.json")
    with FixtureServer(route) as server, pytest.raises(TreeHeadError) as caught:
        Rfc6962Client(server.base_url, _pilot_key(), UNLIMITED).get_sth()
    assert caught.value.served == route["/ct/v1/get-sth"][2]
    assert caught.value.url.endswith("/ct/v1/get-sth")
    # the right key on another log's head: also rejected
    route = _sth_route("argon2024_get-sth_2024-03-28.json")
    with FixtureServer(route) as server, pytest.raises(TreeHeadError, match="does not verify"):
        Rfc6962Client(server.base_url, _pilot_key(), UNLIMITED).get_sth()


@pytest.mark.parametrize(
    "name",
    [
        "pilot_get-entries_4_entries_2013-03-26.json",
        "get-entries_precert_GeoTrust_EV_TEST_CA_G4_2015-02-02.json",
        "get-entries_x509_GlobalSign_EV_G2_TEST_2014-11-13.json",
    ],
)
def test_real_entries_give_the_published_leaf_hashes(name: str) -> None:
    expected = SUMMARY[name]
    with FixtureServer({"/ct/v1/get-entries": (200, {}, (REAL / name).read_bytes())}) as server:
        client = Rfc6962Client(server.base_url, _pilot_key(), UNLIMITED)
        (batch,) = client.get_entries(7, 7 + len(expected))
    assert server.requests[0][0] == f"/ct/v1/get-entries?start=7&end={6 + len(expected)}"
    assert not batch.bad_entries
    assert [e.index for e in batch.entries] == list(range(7, 7 + len(expected)))
    for entry, truth in zip(batch.entries, expected, strict=True):
        assert base64.b64encode(entry.leaf_hash).decode() == truth["merkle_leaf_hash_b64"]
        assert entry.timestamp_ms == truth["timestamp_ms"]
        assert entry.entry_type is (
            EntryType.PRECERT if truth["entry_type"] == "precert_entry" else EntryType.X509
        )
        assert len(entry.chain) == len(truth["chain"])


def test_malformed_entries_are_reported_by_index_and_the_others_kept() -> None:
    entries = json.loads((REAL / "pilot_get-entries_4_entries_2013-03-26.json").read_text())["entries"]
    entries[1]["leaf_input"] = "not base64!"
    entries[2]["leaf_input"] = base64.b64encode(b"\x00\x00garbage").decode()
    body = json.dumps({"entries": entries}).encode()
    with FixtureServer({"/ct/v1/get-entries": (200, {}, body)}) as server:
        (batch,) = Rfc6962Client(server.base_url, _pilot_key(), UNLIMITED).get_entries(0, 4)
    assert [e.index for e in batch.entries] == [0, 3]
    assert [bad.index for bad in batch.bad_entries] == [1, 2]
    assert "leaf_input is not valid base64" in batch.bad_entries[0].reason
    assert batch.bad_entries[0].leaf_hash is None
    assert batch.bad_entries[1].leaf_hash is not None  # hashable: the range can still be proven
    assert "TimestampedEntry" in batch.bad_entries[1].reason
    assert batch.leaf_hashes()[1:3] == [None, batch.bad_entries[1].leaf_hash]


# -- the simulator --


def test_whole_log_and_mid_log_windows_verify_against_the_tree_head(
    argon: tuple[SimulatorRunning, FakeClocks],
) -> None:
    sim, clocks = argon
    client = _client(sim, clocks, batch_size=64, concurrency=3)
    sth = client.get_sth()
    assert sth.tree_size == sim.world.logs[LOG].size
    whole = _collect(client.verified_entries(0, sth.tree_size, sth))
    assert _indices(whole) == list(range(sth.tree_size))
    truth = sim.world.logs[LOG]
    assert all(e.leaf_hash == truth.leaf_hash(e.index) for b in whole for e in b.entries)
    for start, end in ((1, 2), (777, 1901), (sth.tree_size - 5, sth.tree_size), (0, 100)):
        window = _collect(client.verified_entries(start, end, sth))
        assert _indices(window) == list(range(start, end))
        assert window[0].start == start
        assert window[-1].end_exclusive == end


def test_short_batches_are_followed_up(argon: tuple[SimulatorRunning, FakeClocks]) -> None:
    sim, clocks = argon
    sim.set_faults(LOG, [Fault(FaultKind.SHORT_BATCH, every=2, entries=7)])
    before = sim.request_count(LOG, "get-entries")
    client = _client(sim, clocks, batch_size=50)
    sth = client.get_sth()
    batches = _collect(client.verified_entries(100, 300, sth))
    assert _indices(batches) == list(range(100, 300))
    assert [(b.start, b.end_exclusive) for b in batches] == [(100, 150), (150, 200), (200, 250), (250, 300)]
    # each window of 50: one full answer is impossible (every 2nd is cut to 7), so 50 = 7 + 43 or 50
    assert sim.request_count(LOG, "get-entries") - before > 4


def test_truncated_json_is_retried(argon: tuple[SimulatorRunning, FakeClocks]) -> None:
    sim, clocks = argon
    sim.set_faults(LOG, [Fault(FaultKind.TRUNCATED_JSON, first=1, endpoints=frozenset({"get-entries"}))])
    before = sim.request_count(LOG, "get-entries")
    client = _client(sim, clocks, batch_size=100)
    batches = _collect(client.get_entries(0, 100))
    assert _indices(batches) == list(range(100))
    assert sim.request_count(LOG, "get-entries") - before == 2
    assert len(clocks.sleeps) == 1  # one back-off


def test_rate_limit_and_server_errors_are_retried_with_retry_after(
    argon: tuple[SimulatorRunning, FakeClocks],
) -> None:
    sim, clocks = argon
    sim.set_faults(
        LOG,
        [
            Fault(FaultKind.RATE_LIMIT, first=1, retry_after_s=4, endpoints=frozenset({"get-entries"})),
            Fault(FaultKind.SERVER_ERROR, every=3, status=503, endpoints=frozenset({"get-entries"})),
        ],
    )
    client = _client(sim, clocks, batch_size=100)
    sth = client.get_sth()
    assert _indices(_collect(client.verified_entries(0, 500, sth))) == list(range(500))
    assert clocks.sleeps[0] == 4.0
    assert set(clocks.sleeps[1:]) == {1.0}  # 503 with the simulator's Retry-After: 1


def test_corrupt_der_is_never_accepted(argon: tuple[SimulatorRunning, FakeClocks]) -> None:
    """The served certificate differs from the logged one: its leaf hash is not in the tree."""
    sim, clocks = argon
    sim.set_faults(LOG, [Fault(FaultKind.CORRUPT_DER, first=1)])
    client = _client(sim, clocks, batch_size=100)
    sth = client.get_sth()
    with pytest.raises(ProofError) as caught:
        _collect(client.verified_entries(200, 400, sth))
    corrupted = sim.world.logs[LOG].leaf_hash(200)
    assert "knows no leaf with the hash of served entry 200" in caught.value.reason
    assert caught.value.served is not None
    assert caught.value.served != corrupted.hex()

    # corrupted inside the window (not its first entry): the range root differs from the signed one
    sim.set_faults(LOG, [Fault(FaultKind.CORRUPT_DER, every=2)])  # the 2nd request: entry 200
    with pytest.raises(ProofError) as caught:
        _collect(client.verified_entries(100, 400, sth))
    assert caught.value.expected == sth.root_hash.hex()
    assert caught.value.served != sth.root_hash.hex()


def test_bad_sth_signature_raises_with_evidence_and_is_not_retried(
    argon: tuple[SimulatorRunning, FakeClocks],
) -> None:
    sim, clocks = argon
    sim.set_faults(LOG, [Fault(FaultKind.BAD_STH_SIGNATURE, first=1)])
    before = sim.request_count(LOG, "get-sth")
    with pytest.raises(TreeHeadError) as caught:
        _client(sim, clocks).get_sth()
    assert b"tree_head_signature" in caught.value.served
    assert sim.request_count(LOG, "get-sth") - before == 1


def test_inconsistent_tree_is_caught_by_entries_and_by_consistency(
    argon: tuple[SimulatorRunning, FakeClocks],
) -> None:
    sim, clocks = argon
    client = _client(sim, clocks, batch_size=100)
    honest = client.get_sth()
    sim.set_faults(LOG, [Fault(FaultKind.INCONSISTENT_TREE, every=1, endpoints=frozenset({"get-sth"}))])
    forked = client.get_sth()  # validly signed, same size, another root
    assert forked.tree_size == honest.tree_size
    assert forked.root_hash != honest.root_hash
    with pytest.raises(ProofError) as caught:
        _collect(client.verified_entries(1000, 1500, forked))
    assert caught.value.expected == forked.root_hash.hex()
    assert caught.value.served == honest.root_hash.hex()
    with pytest.raises(ProofError, match="two roots for the same tree size"):
        client.get_sth(consistent_with=honest)


def test_consistency_proofs_from_an_as_of_head(argon: tuple[SimulatorRunning, FakeClocks]) -> None:
    sim, clocks = argon
    old = _client(sim, clocks, as_of=AS_OF).get_sth()
    assert old.tree_size == sim.world.logs[LOG].size_as_of(int(AS_OF.timestamp() * 1000))
    client = _client(sim, clocks)
    new = client.get_sth(consistent_with=old)
    assert 0 < old.tree_size < new.tree_size
    sim.set_faults(
        LOG, [Fault(FaultKind.INCONSISTENT_TREE, every=1, endpoints=frozenset({"get-sth-consistency"}))]
    )
    with pytest.raises(ProofError):
        client.prove_consistency(old, new)
    forged = SignedTreeHead(old.tree_size, old.timestamp_ms, bytes(32), old.signature)
    sim.set_faults(LOG, [])
    with pytest.raises(ProofError, match="old size"):
        client.prove_consistency(forged, new)


def test_proof_by_hash_and_an_unknown_hash(argon: tuple[SimulatorRunning, FakeClocks]) -> None:
    sim, clocks = argon
    client = _client(sim, clocks)
    sth = client.get_sth()
    index, path = client.get_proof_by_hash(sim.world.logs[LOG].leaf_hash(42), sth.tree_size)
    assert index == 42
    assert len(path) == (sth.tree_size - 1).bit_length()
    with pytest.raises(FetchError) as caught:
        client.get_proof_by_hash(bytes(32), sth.tree_size)
    assert (caught.value.status, caught.value.attempts) == (404, 1)


def test_window_outside_the_tree_head_is_refused(argon: tuple[SimulatorRunning, FakeClocks]) -> None:
    sim, clocks = argon
    client = _client(sim, clocks)
    sth = client.get_sth()
    with pytest.raises(ValueError, match="not inside tree size"):
        _collect(client.verified_entries(0, sth.tree_size + 1, sth))
    with pytest.raises(ValueError, match="bad entry range"):
        _collect(client.get_entries(5, 4))
