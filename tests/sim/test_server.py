"""The servers, walked with plain urllib and ctwatch.ct decoding: what they serve is the ground truth."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from ctwatch.ct.entries import decode_data_tile, decode_rfc6962_entry_b64
from ctwatch.ct.merkle import ProofError, root_hash, verify_consistency, verify_inclusion
from ctwatch.ct.signatures import SignatureError, SignedTreeHead, verify_checkpoint, verify_tree_head
from ctwatch.sim.scenario import Fault, FaultKind
from ctwatch.sim.server import SimulatorRunning
from tests.sim.conftest import b64, fetch, fetch_json

pytestmark = pytest.mark.integration

AS_OF = "2020-07-01T00:00:00Z"


def _sth(sim: SimulatorRunning, log: str, as_of: str | None = None) -> SignedTreeHead:
    body = fetch_json(sim.log_url(log) + "ct/v1/get-sth", as_of=as_of)
    return SignedTreeHead(
        body["tree_size"], body["timestamp"], b64(body["sha256_root_hash"]), b64(body["tree_head_signature"])
    )


def _key(sim: SimulatorRunning, log: str) -> bytes:
    return sim.world.logs[log].public_key_der


def _walk_entries(sim: SimulatorRunning, log: str, size: int) -> list[bytes]:
    """Leaf hashes of [0, size) by get-entries, following short batches."""
    hashes: list[bytes] = []
    while len(hashes) < size:
        url = sim.log_url(log) + f"ct/v1/get-entries?start={len(hashes)}&end={size - 1}"
        batch = fetch_json(url)["entries"]
        assert 0 < len(batch) <= sim.world.logs[log].spec.max_batch
        for entry in batch:
            hashes.append(
                decode_rfc6962_entry_b64(len(hashes), entry["leaf_input"], entry["extra_data"]).leaf_hash
            )
    return hashes


def test_rfc6962_log_serves_a_verifiable_tree(sim: SimulatorRunning) -> None:
    truth = sim.world.ground_truth()["logs"]["sim-argon"]
    sth = _sth(sim, "sim-argon")
    verify_tree_head(sth, _key(sim, "sim-argon"))
    assert sth.tree_size == truth["size"]
    hashes = _walk_entries(sim, "sim-argon", sth.tree_size)
    assert root_hash(hashes) == sth.root_hash
    assert sim.request_count("sim-argon", "get-entries") == -(-sth.tree_size // 100)  # max_batch = 100

    index = truth["first_index_by_ca"]["jprs-dv-g3"]
    query = f"hash={base64.b64encode(hashes[index]).decode()}&tree_size={sth.tree_size}".replace("+", "%2B")
    proof = fetch_json(sim.log_url("sim-argon") + "ct/v1/get-proof-by-hash?" + query)
    assert proof["leaf_index"] == index
    verify_inclusion(
        hashes[index], index, sth.tree_size, [b64(h) for h in proof["audit_path"]], sth.root_hash
    )

    old = _sth(sim, "sim-argon", as_of=AS_OF)
    verify_tree_head(old, _key(sim, "sim-argon"))
    assert 0 < old.tree_size < sth.tree_size
    assert old.timestamp_ms == 1593561600000
    assert old.root_hash == root_hash(hashes[: old.tree_size])
    url = sim.log_url("sim-argon") + f"ct/v1/get-sth-consistency?first={old.tree_size}&second={sth.tree_size}"
    consistency = [b64(h) for h in fetch_json(url)["consistency"]]
    verify_consistency(old.tree_size, sth.tree_size, old.root_hash, sth.root_hash, consistency)

    chain_root = fetch_json(sim.log_url("sim-argon") + "ct/v1/get-roots")["certificates"]
    assert {b64(c) for c in chain_root} == {c.der for c in sim.world.ca_certs.values() if c.kind == "root"}


def test_as_of_limits_what_the_log_serves(sim: SimulatorRunning) -> None:
    old = _sth(sim, "sim-argon", as_of=AS_OF)
    status, _, _ = fetch(
        sim.log_url("sim-argon") + f"ct/v1/get-entries?start={old.tree_size}&end={old.tree_size}", as_of=AS_OF
    )
    assert status == 400
    early = _sth(sim, "sim-argon", as_of="2020-06-01T00:00:00+00:00")
    assert early.tree_size == 0
    assert fetch(sim.log_url("sim-argon") + "ct/v1/get-sth", as_of="yesterday")[0] == 400
    for index in (0, old.tree_size - 1):
        record = sim.world.logs["sim-argon"].record(index)
        assert record.integrated_ms <= 1593561600000
    assert sim.world.logs["sim-argon"].record(old.tree_size).integrated_ms > 1593561600000


def _tile_path(index: int) -> str:
    digits = f"{index:03d}"
    groups = [digits[max(0, i - 3) : i] for i in range(len(digits), 0, -3)][::-1]
    groups = [g.zfill(3) for g in groups]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def test_static_log_serves_checkpoint_tiles_and_issuers(sim: SimulatorRunning) -> None:
    log = sim.world.logs["sim-tiles"]
    origin = sim.log_url("sim-tiles").split("://")[1].rstrip("/")
    status, _, note = fetch(sim.log_url("sim-tiles") + "checkpoint")
    assert status == 200
    checkpoint, _ = verify_checkpoint(note, origin, log.public_key_der)
    size = checkpoint.tree_size
    assert size == log.size
    full, width = divmod(size, 256)
    leaf_hashes: list[bytes] = []
    for n in range(full + 1):
        suffix = _tile_path(n) + (f".p/{width}" if n == full else "")
        status, headers, body = fetch(sim.log_url("sim-tiles") + "tile/data/" + suffix, gzip_ok=True)
        assert status == 200
        assert headers.get("Content-Encoding") == "gzip"
        entries = decode_data_tile(gzip.decompress(body), n * 256)
        status, _, level0 = fetch(sim.log_url("sim-tiles") + "tile/0/" + suffix)
        assert [e.leaf_hash for e in entries] == [level0[i : i + 32] for i in range(0, len(level0), 32)]
        leaf_hashes += [e.leaf_hash for e in entries]
    assert root_hash(leaf_hashes) == checkpoint.root_hash
    status, _, level1 = fetch(sim.log_url("sim-tiles") + f"tile/1/000.p/{full}")
    assert level1 == b"".join(root_hash(leaf_hashes[i * 256 : (i + 1) * 256]) for i in range(full))
    assert fetch(sim.log_url("sim-tiles") + f"tile/0/{_tile_path(full)}")[0] == 404  # not full yet
    fingerprint = entries[0].chain[0].hex()
    status, _, issuer = fetch(sim.log_url("sim-tiles") + "issuer/" + fingerprint)
    assert status == 200
    assert issuer in {c.der for c in sim.world.ca_certs.values()}

    old_note = fetch(sim.log_url("sim-tiles") + "checkpoint", as_of=AS_OF)[2]
    old, timestamp_ms = verify_checkpoint(old_note, origin, log.public_key_der)
    assert old.tree_size < size
    assert timestamp_ms == 1593561600000
    assert old.root_hash == root_hash(leaf_hashes[: old.tree_size])


def test_log_list_and_url_rewrite(sim: SimulatorRunning, tmp_path: Path) -> None:
    listed = fetch_json(sim.base_url + "/log_list.json")
    written = json.loads(sim.write_log_list(tmp_path / "logs.json").read_text())
    assert [o["name"] for o in listed["operators"]] == [o["name"] for o in written["operators"]]
    logs = {log["url"]: log for op in listed["operators"] for log in op["logs"]}
    tiled = {log["monitoring_url"]: log for op in listed["operators"] for log in op["tiled_logs"]}
    assert set(logs) == {sim.log_url("sim-argon")}
    assert set(tiled) == {sim.log_url("sim-tiles")}
    assert base64.b64decode(logs[sim.log_url("sim-argon")]["key"]) == _key(sim, "sim-argon")
    assert tiled[sim.log_url("sim-tiles")]["temporal_interval"]["end_exclusive"] == "2021-01-01T00:00:00Z"

    rewrite = sim.url_rewrite()
    stable = "http://aia.secom.example/"
    assert rewrite[stable] == f"{sim.base_url}/hosts/aia.secom.example/"
    status, _, der = fetch(rewrite[stable] + "secom-root.der")
    assert status == 200
    assert der == sim.world.ca_certs["secom-root"].der
    assert fetch(sim.url_rewrite()["http://crl.secom.example/"] + "no-such-ca.crl")[0] == 404


def test_rate_limit_and_server_error_are_deterministic(sim: SimulatorRunning) -> None:
    sim.set_faults(
        "sim-argon",
        [
            Fault(FaultKind.RATE_LIMIT, first=1, retry_after_s=7),
            Fault(FaultKind.SERVER_ERROR, every=3, status=502),
        ],
    )
    url = sim.log_url("sim-argon") + "ct/v1/get-sth"
    status, headers, _ = fetch(url)
    assert (status, headers["Retry-After"]) == (429, "7")
    assert [fetch(url)[0] for _ in range(4)] == [200, 502, 200, 200]


def test_short_batch_truncated_json_and_corrupt_der(sim: SimulatorRunning) -> None:
    sim.set_faults(
        "sim-argon",
        [
            Fault(FaultKind.SHORT_BATCH, first=1, entries=3),
            Fault(FaultKind.TRUNCATED_JSON, every=2),
            Fault(FaultKind.CORRUPT_DER, first=3),
        ],
    )
    url = sim.log_url("sim-argon") + "ct/v1/get-entries?start=10&end=19"
    first = fetch_json(url)["entries"]  # short, and its first certificate is corrupt
    assert len(first) == 3
    status, _, body = fetch(url)
    assert status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    third = fetch_json(url)["entries"]
    assert len(third) == 10
    with pytest.raises(json.JSONDecodeError):
        json.loads(fetch(url)[2])  # 4th: every 2nd is truncated
    clean = fetch(url)[2]
    assert json.loads(clean)["entries"][0] != third[0]
    log = sim.world.logs["sim-argon"]
    decoded = decode_rfc6962_entry_b64(10, third[0]["leaf_input"], third[0]["extra_data"])
    assert decoded.leaf_hash != log.leaf_hash(10)
    assert decoded.leaf_der_or_tbs[0] == 0x31  # no longer a DER SEQUENCE

    sim.set_faults("sim-tiles", [Fault(FaultKind.CORRUPT_DER, first=1)])
    tile_url = sim.log_url("sim-tiles") + "tile/data/000"
    bad, good = fetch(tile_url)[2], fetch(tile_url)[2]
    assert bad != good
    assert len(bad) == len(good)
    assert decode_data_tile(bad, 0)[0].leaf_hash != sim.world.logs["sim-tiles"].leaf_hash(0)


def test_bad_signature_and_forked_tree(sim: SimulatorRunning) -> None:
    sim.set_faults("sim-argon", [Fault(FaultKind.BAD_STH_SIGNATURE, first=1)])
    with pytest.raises(SignatureError):
        verify_tree_head(_sth(sim, "sim-argon"), _key(sim, "sim-argon"))
    verify_tree_head(_sth(sim, "sim-argon"), _key(sim, "sim-argon"))

    honest_old = _sth(sim, "sim-argon", as_of=AS_OF)
    sim.set_faults("sim-argon", [Fault(FaultKind.INCONSISTENT_TREE, first=2)])
    forked = _sth(sim, "sim-argon")
    verify_tree_head(forked, _key(sim, "sim-argon"))  # validly signed ...
    assert forked.root_hash != sim.world.logs["sim-argon"].tree.root()  # ... but another tree
    url = (
        sim.log_url("sim-argon")
        + f"ct/v1/get-sth-consistency?first={honest_old.tree_size}&second={forked.tree_size}"
    )
    proof = [b64(h) for h in fetch_json(url)["consistency"]]
    with pytest.raises(ProofError):
        verify_consistency(
            honest_old.tree_size, forked.tree_size, honest_old.root_hash, forked.root_hash, proof
        )
    honest = _sth(sim, "sim-argon")
    assert honest.tree_size == forked.tree_size
    assert honest.root_hash != forked.root_hash

    origin = sim.log_url("sim-tiles").split("://")[1].rstrip("/")
    sim.set_faults("sim-tiles", [Fault(FaultKind.BAD_STH_SIGNATURE, first=1)])
    with pytest.raises(SignatureError):
        verify_checkpoint(fetch(sim.log_url("sim-tiles") + "checkpoint")[2], origin, _key(sim, "sim-tiles"))


def test_bad_requests_get_http_errors(sim: SimulatorRunning) -> None:
    base = sim.log_url("sim-argon") + "ct/v1/"
    assert fetch(base + "get-entries?start=5&end=2")[0] == 400
    assert fetch(base + "get-entries?start=x&end=2")[0] == 400
    assert fetch(base + "get-proof-by-hash?hash=AAAA&tree_size=10")[0] == 404
    assert fetch(base + "get-sth-consistency?first=10&second=5")[0] == 400
    assert fetch(sim.base_url + "/logs/nope/ct/v1/get-sth")[0] == 404
    assert fetch(sim.log_url("sim-tiles") + "tile/0/1234")[0] == 400
    assert fetch(sim.log_url("sim-tiles") + "tile/9/000")[0] == 400
