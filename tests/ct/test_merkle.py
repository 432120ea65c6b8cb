"""Merkle hashing, proofs and range verification against a naive RFC 6962 §2.1 MTH."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctwatch.ct.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    ProofError,
    leaf_hash,
    node_hash,
    root_hash,
    verify_compact_range,
    verify_consistency,
    verify_inclusion,
    verify_range,
)

RFC6962 = Path(__file__).resolve().parents[1] / "fixtures" / "real" / "ct_api" / "rfc6962"


def naive_mth(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 §2.1, literally: split at the largest power of two smaller than n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(naive_mth(leaves[:k]), naive_mth(leaves[k:]))


def leaves_of(size: int) -> list[bytes]:
    return [leaf_hash(index.to_bytes(4, "big")) for index in range(size)]


def flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


def test_rfc6962_reference_roots() -> None:
    # The well-known test vectors of the RFC 6962 reference implementation (8 leaves of raw data).
    data = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    tree = MerkleTree(leaf_hash(bytes.fromhex(item)) for item in data)
    assert tree.root(1).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert tree.root(3).hex() == "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"
    assert tree.root().hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert MerkleTree().root() == EMPTY_ROOT == root_hash([])


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=0, max_value=300), data=st.data())
def test_tree_roots_and_proofs_match_naive_mth(size: int, data: st.DataObject) -> None:
    leaves = leaves_of(size)
    tree = MerkleTree(leaves[: size // 2])
    for value in leaves[size // 2 :]:
        tree.append(value)
    assert tree.root() == naive_mth(leaves) == root_hash(leaves)
    if size == 0:
        return
    sub_size = data.draw(st.integers(min_value=1, max_value=size))
    index = data.draw(st.integers(min_value=0, max_value=sub_size - 1))
    old_size = data.draw(st.integers(min_value=0, max_value=sub_size))
    assert tree.root(sub_size) == naive_mth(leaves[:sub_size])

    proof = tree.inclusion_proof(index, sub_size)
    verify_inclusion(leaves[index], index, sub_size, proof, tree.root(sub_size))
    consistency = tree.consistency_proof(old_size, sub_size)
    verify_consistency(old_size, sub_size, tree.root(old_size), tree.root(sub_size), consistency)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=2, max_value=200), data=st.data())
def test_tampered_proofs_and_roots_are_rejected(size: int, data: st.DataObject) -> None:
    leaves = leaves_of(size)
    tree = MerkleTree(leaves)
    root = tree.root()
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = tree.inclusion_proof(index, size)
    with pytest.raises(ProofError) as wrong_root:
        verify_inclusion(leaves[index], index, size, proof, flip(root))
    assert wrong_root.value.expected == flip(root).hex()
    assert wrong_root.value.served == root.hex()
    with pytest.raises(ProofError):
        verify_inclusion(flip(leaves[index]), index, size, proof, root)
    if proof:
        position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        tampered = [*proof[:position], flip(proof[position]), *proof[position + 1 :]]
        with pytest.raises(ProofError):
            verify_inclusion(leaves[index], index, size, tampered, root)
        with pytest.raises(ProofError):
            verify_inclusion(leaves[index], index, size, proof[:-1], root)

    old_size = data.draw(st.integers(min_value=1, max_value=size - 1))
    consistency = tree.consistency_proof(old_size, size)
    old_root = tree.root(old_size)
    with pytest.raises(ProofError):
        verify_consistency(old_size, size, flip(old_root), root, consistency)
    with pytest.raises(ProofError):
        verify_consistency(old_size, size, old_root, flip(root), consistency)
    if consistency:
        position = data.draw(st.integers(min_value=0, max_value=len(consistency) - 1))
        tampered = [*consistency[:position], flip(consistency[position]), *consistency[position + 1 :]]
        with pytest.raises(ProofError):
            verify_consistency(old_size, size, old_root, root, tampered)
        with pytest.raises(ProofError):
            verify_consistency(old_size, size, old_root, root, [*consistency, consistency[0]])


@settings(max_examples=80, deadline=None)
@given(size=st.integers(min_value=1, max_value=260), data=st.data())
def test_range_verification_from_zero_and_mid_log(size: int, data: st.DataObject) -> None:
    leaves = leaves_of(size)
    tree = MerkleTree(leaves)
    root = tree.root()
    begin = data.draw(st.sampled_from([0, data.draw(st.integers(min_value=0, max_value=size - 1))]))
    end = data.draw(st.integers(min_value=begin + 1, max_value=size))
    first, last = tree.inclusion_proof(begin, size), tree.inclusion_proof(end - 1, size)

    verify_range(begin, leaves[begin:end], size, root, first_inclusion_proof=first, last_inclusion_proof=last)

    # The same range folded batch by batch, as a backfill streams it.
    split = data.draw(st.integers(min_value=begin, max_value=end))
    streamed = CompactRange.from_leaf_hashes(begin, leaves[begin:split])
    tail = CompactRange(split)
    for value in leaves[split:end]:
        tail.append(value)
    streamed.merge(tail)
    assert streamed.hashes == CompactRange.from_leaf_hashes(begin, leaves[begin:end]).hashes
    verify_compact_range(streamed, size, root, first_inclusion_proof=first, last_inclusion_proof=last)

    # One wrong entry anywhere in the window is caught, with the evidence.
    wrong = data.draw(st.integers(min_value=begin, max_value=end - 1))
    served = [*leaves[begin:wrong], flip(leaves[wrong]), *leaves[wrong + 1 : end]]
    with pytest.raises(ProofError) as caught:
        verify_range(begin, served, size, root, first_inclusion_proof=first, last_inclusion_proof=last)
    assert caught.value.expected == root.hex()
    assert caught.value.served is not None
    assert caught.value.served != root.hex()


def test_compact_range_from_zero_gives_the_root() -> None:
    leaves = leaves_of(1000)
    whole = CompactRange.from_leaf_hashes(0, leaves[:300])
    whole.merge(CompactRange.from_leaf_hashes(300, leaves[300:]))
    assert whole.root() == naive_mth(leaves)
    assert len(whole.hashes) == bin(1000).count("1")
    with pytest.raises(ValueError, match="starting at 0"):
        CompactRange.from_leaf_hashes(5, leaves[5:9]).root()
    with pytest.raises(ValueError, match="cannot merge"):
        whole.merge(CompactRange(3))


def test_range_past_the_tree_or_with_short_proof_is_rejected() -> None:
    leaves = leaves_of(20)
    tree = MerkleTree(leaves)
    first, last = tree.inclusion_proof(5, 20), tree.inclusion_proof(9, 20)
    with pytest.raises(ProofError, match="hashes, tree needs"):
        verify_range(
            5, leaves[5:10], 20, tree.root(), first_inclusion_proof=first[:-1], last_inclusion_proof=last
        )
    with pytest.raises(ProofError, match="runs past"):
        verify_range(
            15, leaves_of(25)[15:23], 20, tree.root(), first_inclusion_proof=first, last_inclusion_proof=last
        )
    with pytest.raises(ProofError, match="proves nothing"):
        verify_range(5, [], 20, tree.root(), first_inclusion_proof=first, last_inclusion_proof=last)


def test_million_leaf_tree_builds_quickly() -> None:
    leaves = [hashlib.sha256(index.to_bytes(4, "big")).digest() for index in range(1 << 20)]
    tree = MerkleTree(leaves)
    assert tree.size == 1 << 20
    index = 777_777
    verify_inclusion(leaves[index], index, tree.size, tree.inclusion_proof(index, tree.size), tree.root())
    verify_consistency(1000, tree.size, tree.root(1000), tree.root(), tree.consistency_proof(1000, tree.size))


def test_ct_go_canned_proofs_are_not_accepted_against_a_real_tree_head() -> None:
    # ct-go's client tests serve these proofs with no tree behind them: they are well-formed
    # (32-byte hashes) but prove nothing about the Pilot tree head they are paired with there.
    by_hash = json.loads((RFC6962 / "ct-go_get-proof-by-hash_example.json").read_text())
    consistency = json.loads((RFC6962 / "ct-go_get-sth-consistency_example.json").read_text())
    sth = json.loads((RFC6962 / "pilot_get-sth_2014-04-04.json").read_text())
    audit_path = [base64.b64decode(value) for value in by_hash["audit_path"]]
    nodes = [base64.b64decode(value) for value in consistency["consistency"]]
    assert all(len(value) == 32 for value in audit_path + nodes)
    root = base64.b64decode(sth["sha256_root_hash"])
    any_leaf = leaf_hash(b"")

    with pytest.raises(ProofError, match="hashes, tree needs"):  # Pilot's size needs a 22-hash path
        verify_inclusion(any_leaf, by_hash["leaf_index"], sth["tree_size"], audit_path, root)
    with pytest.raises(ProofError) as caught:  # a 3-hash path fits sizes 5..8: the root differs
        verify_inclusion(any_leaf, by_hash["leaf_index"], 8, audit_path, root)
    assert caught.value.expected == root.hex()
    with pytest.raises(ProofError):
        verify_consistency(4, 6, nodes[0], root, nodes)
