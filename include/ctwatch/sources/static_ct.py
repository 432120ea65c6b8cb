"""static-ct-api (C2SP) log client: signed checkpoint, data and hash tiles, issuers, verified entries.

Tiles hold 256 entries (or hashes); the last tile of a tree is partial, `<N>.p/<W>` with W < 256.
Tile indices are written in 3-digit groups, all but the last prefixed by `x` (1234067 ->
x001/x234/067). Data tiles may come gzip-compressed, with or without `Content-Encoding: gzip`.

A range of entries is proven against a verified checkpoint like an RFC 6962 range: the leaf hashes
of the data tiles are folded into a compact range, and the audit paths of its first and last entry
are built from hash tiles (a level-L tile holds the subtree hashes of Merkle level 8L; other levels
are computed from the tile below). Two checkpoints are proven consistent the same way: the RFC 9162
consistency proof between them is built from the larger tree's hash tiles (immutable: a partial
tile at the smaller size is a prefix of the later tile) and verified against both roots.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ctwatch.ct.entries import EntryDecodeError, LogEntry, decode_data_tile
from ctwatch.ct.merkle import (
    HASH_SIZE,
    CompactRange,
    ProofError,
    inclusion_path_ranges,
    node_hash,
    root_hash,
    verify_compact_range,
    verify_consistency,
    verify_whole_tree,
)
from ctwatch.ct.signatures import Checkpoint, CheckpointError, SignatureError, verify_checkpoint
from ctwatch.sources.http import BodyError, HttpClient, Politeness, fetch_in_order, join_url
from ctwatch.sources.rfc6962 import EntryBatch, TreeHeadError

TILE_WIDTH = 256
_LEVEL_BITS = 8  # a tile level spans 8 Merkle levels (256 = 2**8)
_GZIP_MAGIC = b"\x1f\x8b"
# 256 entries of a few kB each make a data tile; 64 MiB leaves room for entries with long chains.
MAX_TILE_BYTES = 64 << 20


@dataclass(frozen=True, slots=True)
class VerifiedCheckpoint:
    """A checkpoint whose log signature verified: the parsed note, its signed time and the note bytes."""

    checkpoint: Checkpoint
    timestamp_ms: int
    note: bytes

    @property
    def tree_size(self) -> int:
        return self.checkpoint.tree_size

    @property
    def root_hash(self) -> bytes:
        return self.checkpoint.root_hash


def tile_path(level: int | str, index: int, width: int | None = None) -> str:
    """C2SP tlog-tiles path of tile `index` at `level` ("data" for data tiles); `width` < 256: partial."""
    digits = f"{index:d}"
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[pos : pos + 3] for pos in range(0, len(digits), 3)]
    path = "/".join([*("x" + group for group in groups[:-1]), groups[-1]])
    if width is not None and width != TILE_WIDTH:
        if not 0 < width < TILE_WIDTH:
            raise ValueError(f"partial tile width {width} not in 1..255")
        path += f".p/{width}"
    return f"tile/{level}/{path}"


def _gunzip_if_needed(body: bytes) -> bytes:
    """Tiles stored gzip-compressed may be served without Content-Encoding; a TileLeaf or a hash
    never starts with the gzip magic at a real timestamp, so the magic is unambiguous enough."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            plain = stream.read(MAX_TILE_BYTES + 1)  # a few bytes can expand to gigabytes
    except (OSError, EOFError, zlib.error) as exc:
        raise BodyError(f"gzip body does not decompress: {exc}") from exc
    if len(plain) > MAX_TILE_BYTES:
        raise BodyError(f"gzip body expands to more than {MAX_TILE_BYTES} bytes")
    return plain


def _decode_tile_entries(first_index: int, width: int, body: bytes) -> list[LogEntry]:
    try:
        entries = decode_data_tile(_gunzip_if_needed(body), first_index)
    except EntryDecodeError as exc:
        raise BodyError(f"data tile at entry {first_index} does not decode: {exc}") from exc
    if len(entries) != width:
        raise BodyError(f"data tile at entry {first_index} holds {len(entries)} entries, not {width}")
    return entries


def _check_hash_tile(width: int, body: bytes) -> bytes:
    hashes = _gunzip_if_needed(body)
    if len(hashes) != width * HASH_SIZE:
        raise BodyError(f"hash tile is {len(hashes)} bytes, not {width} hashes")
    return hashes


def _verify_checkpoint(origin: str, public_key_der: bytes, url: str, body: bytes) -> VerifiedCheckpoint:
    try:
        checkpoint, timestamp_ms = verify_checkpoint(body, origin, public_key_der)
    except CheckpointError as exc:
        raise BodyError(f"checkpoint is malformed: {exc.reason}") from exc
    except SignatureError as exc:
        raise TreeHeadError(url, exc.reason, body) from exc
    return VerifiedCheckpoint(checkpoint, timestamp_ms, body)


@dataclass
class _TileHashes:
    """Hash tiles of one tree size, fetched once each while building audit paths."""

    fetch: Callable[[int, int, int], bytes]  # (level, index, width) -> concatenated hashes
    tree_size: int
    tiles: dict[tuple[int, int], bytes] = field(default_factory=dict)

    def node(self, merkle_level: int, index: int) -> bytes:
        """Hash of the perfect subtree of 2**merkle_level leaves number `index`."""
        tile_level, below = divmod(merkle_level, _LEVEL_BITS)
        first = index << below  # its leftmost hash at Merkle level 8 * tile_level
        tile_index, offset = divmod(first, TILE_WIDTH)
        key = (tile_level, tile_index)
        if key not in self.tiles:
            stored = self.tree_size >> (_LEVEL_BITS * tile_level)
            width = min(TILE_WIDTH, stored - tile_index * TILE_WIDTH)
            self.tiles[key] = self.fetch(tile_level, tile_index, width)
        tile = self.tiles[key]
        count = 1 << below
        return root_hash(
            [
                tile[pos : pos + HASH_SIZE]
                for pos in range(offset * HASH_SIZE, (offset + count) * HASH_SIZE, HASH_SIZE)
            ]
        )

    def subtree(self, low: int, high: int) -> bytes:
        """MTH of leaves [low, high): a perfect aligned subtree, or the right edge split as RFC 6962 does."""
        span = high - low
        if span & (span - 1) == 0 and low % span == 0:
            level = span.bit_length() - 1
            return self.node(level, low >> level)
        split = 1 << ((span - 1).bit_length() - 1)
        return node_hash(self.subtree(low, low + split), self.subtree(low + split, high))

    def audit_path(self, index: int) -> list[bytes]:
        return [self.subtree(low, high) for low, high in inclusion_path_ranges(index, self.tree_size)]

    def consistency_proof(self, old_size: int) -> list[bytes]:
        return [self.subtree(low, high) for low, high in _consistency_ranges(old_size, self.tree_size)]


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Leaf ranges [lo, hi) of the RFC 9162 §2.1.4.1 consistency proof nodes, in proof order
    (the SUBPROOF recursion unrolled as `MerkleTree.consistency_proof` does it)."""
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    low, high, remaining, complete = 0, new_size, old_size, True
    while remaining != high - low:
        split = 1 << ((high - low - 1).bit_length() - 1)
        if remaining <= split:
            ranges.append((low + split, high))
            high = low + split
        else:
            ranges.append((low, low + split))
            low, remaining, complete = low + split, remaining - split, False
    if not complete:
        ranges.append((low, high))
    ranges.reverse()
    return ranges


class StaticCtClient:
    """Client of one static-ct-api log: `monitoring_url` is the monitoring prefix, `origin` the
    checkpoint origin (the submission prefix without scheme). Issuers are cached in memory and, with
    `issuer_cache_dir`, on disk (file name: the DER's SHA-256 hex, re-checked when read)."""

    def __init__(
        self,
        monitoring_url: str,
        origin: str,
        public_key_der: bytes,
        politeness: Politeness | None = None,
        *,
        http: HttpClient | None = None,
        issuer_cache_dir: Path | None = None,
    ) -> None:
        self.monitoring_url = monitoring_url
        self.origin = origin
        self.public_key_der = public_key_der
        self.http = http or HttpClient(politeness or Politeness())
        self.politeness = self.http.politeness
        self._issuer_cache_dir = issuer_cache_dir
        self._issuers: dict[bytes, bytes] = {}

    def _url(self, path: str) -> str:
        return join_url(self.monitoring_url, path)

    def checkpoint(self) -> VerifiedCheckpoint:
        """The log's current checkpoint, its signature by the log key verified (TreeHeadError otherwise)."""
        url = self._url("checkpoint")
        return self.http.get(url, partial(_verify_checkpoint, self.origin, self.public_key_der, url))

    def prove_consistency(self, old: VerifiedCheckpoint | tuple[int, bytes], new: VerifiedCheckpoint) -> None:
        """Prove that `new` extends `old` (a checkpoint or a stored (tree size, root)); ProofError
        otherwise, with the root expected (old root first, then the new one) and the root the
        tiles compute. Reads O(log n) hash tiles of the larger tree. An older `new` (a stale cache)
        is proven a prefix of `old` instead, as the RFC 6962 client does."""
        old_size, old_root = (old.tree_size, old.root_hash) if isinstance(old, VerifiedCheckpoint) else old
        new_size, new_root = new.tree_size, new.root_hash
        if old_size > new_size:
            (old_size, old_root), (new_size, new_root) = (new_size, new_root), (old_size, old_root)
        proof = _TileHashes(self.hash_tile, new_size).consistency_proof(old_size)
        verify_consistency(old_size, new_size, old_root, new_root, proof)

    def data_tile(self, index: int, width: int = TILE_WIDTH) -> list[LogEntry]:
        """Entries of data tile `index` (`width` < 256: the partial tile), decoded; FetchError if it
        cannot be fetched or decoded (including a tile whose entries do not sit at its positions)."""
        url = self._url(tile_path("data", index, width))
        return self.http.get(url, partial(_decode_tile_entries, index * TILE_WIDTH, width))

    def hash_tile(self, level: int, index: int, width: int = TILE_WIDTH) -> bytes:
        """Hash tile `index` at tile `level`: `width` concatenated 32-byte hashes."""
        url = self._url(tile_path(level, index, width))
        return self.http.get(url, partial(_check_hash_tile, width))

    def issuer(self, der_sha256: bytes) -> bytes:
        """The DER certificate with this SHA-256 from `issuer/<hex>`; ProofError if the served
        bytes hash to something else (expected vs served fingerprint)."""
        cached = self._issuers.get(der_sha256)
        if cached is not None:
            return cached
        path = self._issuer_cache_dir / der_sha256.hex() if self._issuer_cache_dir else None
        der = path.read_bytes() if path is not None and path.is_file() else None
        if der is None or hashlib.sha256(der).digest() != der_sha256:
            der = self.http.get(self._url("issuer/" + der_sha256.hex()), bytes)
            served = hashlib.sha256(der).digest()
            if served != der_sha256:
                raise ProofError(
                    "issuer certificate does not match its fingerprint", expected=der_sha256, served=served
                )
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(der)
        self._issuers[der_sha256] = der
        return der

    def entries(self, start: int, end_exclusive: int, checkpoint: VerifiedCheckpoint) -> Iterator[EntryBatch]:
        """Entries [start, end_exclusive), one batch per data tile, proven part of `checkpoint`.

        As with `Rfc6962Client.verified_entries`, the proof is made after the last batch: the
        iteration completes only if the whole range is proven; on ProofError discard what was staged.
        """
        size = checkpoint.tree_size
        if not 0 <= start < end_exclusive <= size:
            raise ValueError(f"range [{start}, {end_exclusive}) is not inside tree size {size}")
        tiles = (
            (index, partial(self.data_tile, index, min(TILE_WIDTH, size - index * TILE_WIDTH)))
            for index in range(start // TILE_WIDTH, (end_exclusive - 1) // TILE_WIDTH + 1)
        )
        folded = CompactRange(start)
        for index, tile_entries in fetch_in_order(self.politeness.concurrency, tiles):
            low = max(start, index * TILE_WIDTH)
            high = min(end_exclusive, index * TILE_WIDTH + len(tile_entries))
            wanted = tile_entries[low - index * TILE_WIDTH : high - index * TILE_WIDTH]
            hashes = [entry.leaf_hash for entry in wanted]
            folded.merge(CompactRange.from_leaf_hashes(low, hashes))
            yield EntryBatch(low, high, wanted, [])
        self._prove_range(folded, checkpoint)

    def _prove_range(self, folded: CompactRange, checkpoint: VerifiedCheckpoint) -> None:
        size = checkpoint.tree_size
        if folded.begin == 0 and folded.end == size:
            verify_whole_tree(folded, checkpoint.root_hash, "the checkpoint root")
            return
        hashes = _TileHashes(self.hash_tile, size)
        verify_compact_range(
            folded,
            size,
            checkpoint.root_hash,
            first_inclusion_proof=hashes.audit_path(folded.begin),
            last_inclusion_proof=hashes.audit_path(folded.end - 1),
        )
