"""A whole Merkle tree kept in memory, as a log serves it: roots, inclusion and consistency proofs
of any earlier size (RFC 9162 §2.1)."""

from __future__ import annotations

from collections.abc import Iterable

from ctwatch.ct.merkle.hashing import EMPTY_ROOT, HASH_SIZE, hash_pairs, node_hash, split_point
from ctwatch.ct.merkle.proofs import inclusion_path_ranges


class MerkleTree:
    """An append-only Merkle tree keeping every level (for servers such as the simulator, and tests).

    Level l holds the hashes of the complete subtrees of 2**l leaves, concatenated in a bytearray.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0]) // HASH_SIZE

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash and every complete subtree it closes."""
        self.extend((leaf_hash,))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add many leaf hashes; completes new subtrees level by level (fast for large batches)."""
        added = b"".join(leaf_hashes)
        if len(added) % HASH_SIZE:
            raise ValueError("leaf hashes must be 32 bytes each")
        if not added:
            return
        self._levels[0] += added
        level = 0
        while True:
            below = self._levels[level]
            if level + 1 == len(self._levels):
                if len(below) < HASH_SIZE * 2:
                    return
                self._levels.append(bytearray())
            above = self._levels[level + 1]
            done_pairs = len(above) // HASH_SIZE
            available_pairs = len(below) // (HASH_SIZE * 2)
            if available_pairs == done_pairs:
                return
            above += hash_pairs(below[done_pairs * HASH_SIZE * 2 : available_pairs * HASH_SIZE * 2])
            level += 1

    def leaf_hash(self, index: int) -> bytes:
        """The leaf hash at `index`."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf index {index} outside tree of size {self.size}")
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def _subtree(self, begin: int, end: int) -> bytes:
        """MTH of leaves [begin, end), from stored complete subtrees where possible."""
        span = end - begin
        if span == 1:
            return self.leaf_hash(begin)
        if span & (span - 1) == 0 and begin % span == 0:
            level = span.bit_length() - 1
            pos = (begin >> level) * HASH_SIZE
            return bytes(self._levels[level][pos : pos + HASH_SIZE])
        k = split_point(span)
        return node_hash(self._subtree(begin, begin + k), self._subtree(begin + k, end))

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} outside tree of size {self.size}")

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the first `size` leaves (default: all)."""
        size = self.size if size is None else size
        self._check_size(size)
        return self._subtree(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Audit path for leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1)."""
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} outside tree of size {size}")
        return [self._subtree(lo, hi) for lo, hi in inclusion_path_ranges(index, size)]

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """Consistency proof between the trees of `old_size` and `new_size` leaves (RFC 9162 §2.1.4.1)."""
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"old size {old_size} not within 0..{new_size}")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        # SUBPROOF(m, D[lo:hi], b), unrolled top-down; nodes are collected and reversed at the end.
        lo, hi, m, complete = 0, new_size, old_size, True
        while m != hi - lo:
            k = split_point(hi - lo)
            if m <= k:
                proof.append(self._subtree(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._subtree(lo, lo + k))
                lo, m, complete = lo + k, m - k, False
        if not complete:
            proof.append(self._subtree(lo, hi))
        proof.reverse()
        return proof
