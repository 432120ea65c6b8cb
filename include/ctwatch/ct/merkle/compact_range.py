"""Compact ranges: consecutive leaves summarised by their maximal perfect subtrees, and the proof that
a range of entries belongs to a verified tree (see ctwatch.ct.merkle)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ctwatch.ct.merkle.hashing import EMPTY_ROOT, HASH_SIZE, node_hash, root_hash, split_point
from ctwatch.ct.merkle.proofs import ProofError, check_hash, inclusion_path_ranges


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


def verify_whole_tree(rng: CompactRange, root: bytes, what: str) -> None:
    """Prove a range of the whole tree [0, end) by its root alone: ProofError unless it hashes to
    `root` (`what` names that root in the error)."""
    served = rng.root()
    if served != root:
        raise ProofError(f"entries [0, {rng.end}) do not hash to {what}", expected=root, served=served)


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
            check_hash(sibling, f"inclusion proof hash for leaves [{lo}, {hi})")
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
    k = split_point(hi - lo)
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
        check_hash(value, f"leaf hash {begin + position}")
    rng = CompactRange.from_leaf_hashes(begin, leaf_hashes)
    verify_compact_range(
        rng,
        tree_size,
        root,
        first_inclusion_proof=first_inclusion_proof,
        last_inclusion_proof=last_inclusion_proof,
    )
