"""Checking what a log serves against a verified tree head: audit paths (inclusion) and consistency
proofs (RFC 9162 §2.1.3-2.1.4). Every failure raises `ProofError` with the evidence."""

from __future__ import annotations

from collections.abc import Sequence

from ctwatch.ct.merkle.hashing import HASH_SIZE, node_hash, split_point


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


def inclusion_path_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges [lo, hi) of the audit path siblings of leaf `index` in a tree of `size`, bottom-up."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def check_hash(value: bytes, what: str) -> None:
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
        check_hash(sibling, f"inclusion proof hash {position}")
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
        check_hash(node, f"consistency proof hash {position}")
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
