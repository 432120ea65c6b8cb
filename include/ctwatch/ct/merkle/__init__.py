"""Merkle tree hashing, proofs and compact ranges (RFC 6962 §2.1, RFC 9162 §2.1): `hashing`, the
server-side `tree`, `proofs` (inclusion and consistency) and `compact_range`.

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

from ctwatch.ct.merkle.compact_range import (
    CompactRange,
    verify_compact_range,
    verify_range,
    verify_whole_tree,
)
from ctwatch.ct.merkle.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash, root_hash
from ctwatch.ct.merkle.proofs import ProofError, inclusion_path_ranges, verify_consistency, verify_inclusion
from ctwatch.ct.merkle.tree import MerkleTree

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MerkleTree",
    "ProofError",
    "inclusion_path_ranges",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "verify_compact_range",
    "verify_consistency",
    "verify_inclusion",
    "verify_range",
    "verify_whole_tree",
]
