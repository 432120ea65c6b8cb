"""Merkle tree hashing, proofs and compact ranges (RFC 6962 §2.1, RFC 9162 §2.1).

Every verification failure raises `ProofError` carrying what was expected (from a verified tree
head) and what the served data computes to, so a caller can store the evidence of a bad log.

Range verification (a batch of entries `[begin, end)` belongs to a verified tree head of size N):
the entries' own leaf hashes are folded into a `CompactRange`; the hashes of the tree outside the
range come from two ordinary RFC 6962 inclusion proofs, one for the first entry (index `begin`)
and one for the last (index `end - 1`), both at size N. The left siblings on the first entry's path
are exactly the perfect subtrees covering `[0, begin)`, and the right siblings on the last entry's
path cover `[end, N)`. Recomputing the root from those (at most 2·log2 N fetched hashes) plus the
range itself and comparing it with the signed root proves every entry of the range, wherever the
range starts. RFC 6962 clients fetch the two proofs with `get-proof-by-hash`; static-ct clients can
build them from hash tiles with the same shape.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


class ProofError(Exception):
    """A served proof, root or range does not match what a verified tree head requires.

    `expected` and `served` are lower-case hex (or None when not applicable): the evidence.
    """

    def __init__(self, reason: str, *, expected: bytes | None = None, served: bytes | None = None) -> None:
        self.reason = reason
        self.expected = expected.hex() if expected is not None else None
        self.served = served.hex() if served is not None else None
        detail = f" (expected {self.expected}, served {self.served})" if expected or served else ""
        super().__init__(reason + detail)


def leaf_hash(leaf_input: bytes) -> bytes:
    """Hash of one leaf: SHA-256(0x00 || MerkleTreeLeaf bytes)."""
    return _sha256(_LEAF_PREFIX + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 6962's split: the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _next_level(level: bytes | bytearray) -> bytearray:
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
        paired = _next_level(current)
        if (len(current) // HASH_SIZE) % 2:
            paired += current[-HASH_SIZE:]
        current = bytes(paired)
    return current


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
            above += _next_level(below[done_pairs * HASH_SIZE * 2 : available_pairs * HASH_SIZE * 2])
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
        k = _largest_power_of_two_below(span)
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
            k = _largest_power_of_two_below(hi - lo)
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


def inclusion_path_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges [lo, hi) of the audit path siblings of leaf `index` in a tree of `size`, bottom-up."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an audit path (RFC 9162 §2.1.3.2); raise ProofError unless leaf `index` is in the tree."""
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} outside tree of size {tree_size}")
    expected_length = len(inclusion_path_ranges(index, tree_size))
    if len(proof) != expected_length:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, tree needs {expected_length}")
    for position, sibling in enumerate(proof):
        _check_hash(sibling, f"inclusion proof hash {position}")
    fn, sn, computed = index, tree_size - 1, leaf_hash
    for sibling in proof:
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            computed = node_hash(computed, sibling)
        fn >>= 1
        sn >>= 1
    if computed != root:
        raise ProofError(
            f"inclusion proof for leaf {index} in tree of size {tree_size} gives another root",
            expected=root,
            served=computed,
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of `new_size` extends the tree of `old_size` (RFC 9162 §2.1.4.2)."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    for position, node in enumerate(proof):
        _check_hash(node, f"consistency proof hash {position}")
    if old_size in (0, new_size):
        if proof:
            raise ProofError(f"consistency proof from {old_size} to {new_size} must be empty")
        if old_size == new_size and old_root != new_root:
            raise ProofError(
                f"two roots for the same tree size {new_size}", expected=old_root, served=new_root
            )
        return
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)  # the old tree is a complete subtree: its root is the first node
    if not path:
        raise ProofError(f"empty consistency proof from {old_size} to {new_size}")
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_computed = new_computed = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof from {old_size} to {new_size} is too long")
        if fn & 1 or fn == sn:
            old_computed = node_hash(node, old_computed)
            new_computed = node_hash(node, new_computed)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            new_computed = node_hash(new_computed, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"consistency proof from {old_size} to {new_size} is too short")
    if old_computed != old_root:
        raise ProofError(
            f"consistency proof gives another root for old size {old_size}",
            expected=old_root,
            served=old_computed,
        )
    if new_computed != new_root:
        raise ProofError(
            f"consistency proof gives another root for new size {new_size}",
            expected=new_root,
            served=new_computed,
        )


@dataclass(frozen=True, slots=True)
class _Node:
    """A perfect subtree of the compact range: leaves [lo, hi) and their hash."""

    lo: int
    hi: int
    hash: bytes


class CompactRange:
    """Compact range [begin, end): the hashes of the maximal perfect aligned subtrees covering it.

    At most 2·log2(end - begin) hashes summarise any number of consecutive leaves, so a backfill
    window starting mid-log can be folded batch by batch (`append`, `merge`) and then proven against
    a tree head with `verify_compact_range`. For begin == 0, `root()` is the tree's root hash.
    """

    def __init__(self, begin: int) -> None:
        if begin < 0:
            raise ValueError(f"negative range start {begin}")
        self.begin = begin
        self.end = begin
        self._nodes: list[_Node] = []

    @classmethod
    def from_leaf_hashes(cls, begin: int, leaf_hashes: Sequence[bytes]) -> CompactRange:
        """Compact range of the leaves starting at index `begin`."""
        rng = cls(begin)
        end = begin + len(leaf_hashes)
        pos = begin
        while pos < end:
            # Largest aligned perfect subtree starting at pos and fitting in the range.
            size = pos & -pos if pos else 1 << (end - pos).bit_length()
            while pos + size > end:
                size >>= 1
            rng._nodes.append(
                _Node(pos, pos + size, root_hash(leaf_hashes[pos - begin : pos - begin + size]))
            )
            pos += size
        rng.end = end
        return rng

    @property
    def hashes(self) -> list[bytes]:
        """The node hashes, left to right."""
        return [node.hash for node in self._nodes]

    def _push(self, node: _Node) -> None:
        self._nodes.append(node)
        # Merge siblings at the right edge: two adjacent equal-size nodes whose union is aligned.
        while len(self._nodes) >= 2:
            left, right = self._nodes[-2], self._nodes[-1]
            span = right.hi - right.lo
            if left.hi - left.lo != span or left.lo % (2 * span):
                break
            self._nodes[-2:] = [_Node(left.lo, right.hi, node_hash(left.hash, right.hash))]
        self.end = node.hi

    def append(self, leaf_hash: bytes) -> None:
        """Extend the range by one leaf."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError("leaf hash must be 32 bytes")
        self._push(_Node(self.end, self.end + 1, leaf_hash))

    def merge(self, other: CompactRange) -> None:
        """Extend this range by `other`, which must start where this one ends."""
        if other.begin != self.end:
            raise ValueError(f"cannot merge range starting at {other.begin} onto range ending at {self.end}")
        for node in other._nodes:
            self._push(node)

    def root(self) -> bytes:
        """Root hash of the tree [0, end); only defined for ranges starting at 0."""
        if self.begin != 0:
            raise ValueError("a root is only defined for a range starting at 0")
        if not self._nodes:
            return EMPTY_ROOT
        computed = self._nodes[-1].hash
        for node in reversed(self._nodes[:-1]):
            computed = node_hash(node.hash, computed)
        return computed

    def _hash_of(self, lo: int, hi: int) -> bytes:
        """MTH of [lo, hi) inside the range, folding the nodes that tile it (they never straddle it)."""
        starts = {node.lo: node for node in self._nodes}
        tiles: list[bytes] = []
        pos = lo
        while pos < hi:
            node = starts[pos]
            tiles.append(node.hash)
            pos = node.hi
        computed = tiles[-1]
        for tile in reversed(tiles[:-1]):
            computed = node_hash(tile, computed)
        return computed


def verify_compact_range(
    rng: CompactRange,
    tree_size: int,
    root: bytes,
    *,
    first_inclusion_proof: Sequence[bytes],
    last_inclusion_proof: Sequence[bytes],
) -> None:
    """Prove that every leaf of `rng` is in the tree of `tree_size` with `root` (see module docstring).

    `first_inclusion_proof` is the audit path of leaf `rng.begin`, `last_inclusion_proof` that of
    leaf `rng.end - 1`, both at `tree_size`. Raises ProofError on any mismatch.
    """
    begin, end = rng.begin, rng.end
    if begin == end:
        raise ProofError(f"empty range at {begin} proves nothing")
    if end > tree_size:
        raise ProofError(f"range [{begin}, {end}) runs past tree size {tree_size}")
    outside: dict[tuple[int, int], bytes] = {}
    for index, proof in ((begin, first_inclusion_proof), (end - 1, last_inclusion_proof)):
        ranges = inclusion_path_ranges(index, tree_size)
        if len(proof) != len(ranges):
            raise ProofError(
                f"inclusion proof for leaf {index} has {len(proof)} hashes, tree needs {len(ranges)}"
            )
        for (lo, hi), sibling in zip(ranges, proof, strict=True):
            _check_hash(sibling, f"inclusion proof hash for leaves [{lo}, {hi})")
            if hi <= begin or lo >= end:
                outside[(lo, hi)] = sibling
    computed = _root_from_parts(0, tree_size, (begin, end), outside, rng._hash_of)
    if computed != root:
        raise ProofError(
            f"entries [{begin}, {end}) do not belong to the tree of size {tree_size}",
            expected=root,
            served=computed,
        )


def _root_from_parts(
    lo: int,
    hi: int,
    window: tuple[int, int],
    outside: dict[tuple[int, int], bytes],
    inside: Callable[[int, int], bytes],
) -> bytes:
    """MTH of [lo, hi): subtrees inside the window [begin, end) from the range, others from proof siblings."""
    begin, end = window
    if begin <= lo and hi <= end:
        return inside(lo, hi)
    if hi <= begin or lo >= end:
        return outside[(lo, hi)]  # always a sibling on the first or last entry's path
    k = _largest_power_of_two_below(hi - lo)
    return node_hash(
        _root_from_parts(lo, lo + k, window, outside, inside),
        _root_from_parts(lo + k, hi, window, outside, inside),
    )


def verify_range(
    begin: int,
    leaf_hashes: Sequence[bytes],
    tree_size: int,
    root: bytes,
    *,
    first_inclusion_proof: Sequence[bytes],
    last_inclusion_proof: Sequence[bytes],
) -> None:
    """Prove that `leaf_hashes` are the leaves [begin, begin + len) of the tree of `tree_size` with `root`.

    The two proofs are the audit paths of the first and the last leaf of the range at `tree_size`
    (RFC 6962 `get-proof-by-hash`). Raises ProofError with expected vs computed root on mismatch.
    """
    for position, value in enumerate(leaf_hashes):
        _check_hash(value, f"leaf hash {begin + position}")
    rng = CompactRange.from_leaf_hashes(begin, leaf_hashes)
    verify_compact_range(
        rng,
        tree_size,
        root,
        first_inclusion_proof=first_inclusion_proof,
        last_inclusion_proof=last_inclusion_proof,
    )
