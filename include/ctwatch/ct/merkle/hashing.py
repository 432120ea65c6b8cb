"""Merkle tree hashing (RFC 6962 §2.1): leaf and node hashes, and the root of a list of leaves."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(leaf_input: bytes) -> bytes:
    """Hash of one leaf: SHA-256(0x00 || MerkleTreeLeaf bytes)."""
    return _sha256(_LEAF_PREFIX + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The k of RFC 6962's split: the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def hash_pairs(level: bytes | bytearray) -> bytearray:
    """Hash adjacent pairs of a level of 32-byte hashes; an odd last hash is dropped (kept by callers)."""
    out = bytearray()
    for pos in range(0, len(level) - HASH_SIZE * 2 + 1, HASH_SIZE * 2):
        out += _sha256(_NODE_PREFIX + level[pos : pos + HASH_SIZE * 2]).digest()
    return out


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Merkle Tree Hash (MTH) of a list of leaf hashes; the empty tree hashes to SHA-256("")."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return _root_of_level(b"".join(leaf_hashes))


def _root_of_level(level: bytes | bytearray) -> bytes:
    """MTH of concatenated leaf hashes, level by level: an unpaired rightmost node moves up unchanged,
    which is exactly RFC 6962's split at the largest power of two."""
    current = bytes(level)
    while len(current) > HASH_SIZE:
        paired = hash_pairs(current)
        if (len(current) // HASH_SIZE) % 2:
            paired += current[-HASH_SIZE:]
        current = bytes(paired)
    return current
