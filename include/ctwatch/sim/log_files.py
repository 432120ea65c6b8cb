"""The files of a generated log, and the log served from them.

Each log is stored in the world's cache directory as flat files, memory-mapped when served:

- `<log>.entries`: one 42-byte record per entry in log order, big-endian
  (integrated_ms u64, timestamp_ms u64, not_before_hour u32, host_number u32, template u16, serial 16 bytes);
  the leaf input and extra data are rebuilt from the record and the template in microseconds,
  which is far smaller than storing ~1.5 KB of bytes per entry;
- `<log>.hashes`: the 32-byte leaf hashes, in the same order;
- `<log>.json`: entries per issuing certificate, the precertificate count and each CA certificate's
  first index (for the ground truth).

`integrated_ms` is when the log sequenced the entry (timestamp + a delay below the MMD): the log
order, and the as-of cut (the tree as of T holds the entries integrated at or before T, a prefix).
Entry timestamps are therefore not monotonic within the MMD, as in real logs.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from ctwatch.ct.merkle import MerkleTree, leaf_hash, root_hash
from ctwatch.ct.signatures import log_id
from ctwatch.sim.leaf_templates import LeafValues, Template
from ctwatch.sim.pki import derive_key, spki_der
from ctwatch.sim.scenario import LogSpec

RECORD = struct.Struct(">QQIIH16s")
TILE_WIDTH = 256
_HASH = 32


@dataclass(frozen=True, slots=True)
class EntryRecord:
    integrated_ms: int
    timestamp_ms: int
    not_before_hour: int
    host_number: int
    template: int
    serial: bytes


class SimLog:
    """One generated log: entries (memory-mapped), leaf hashes, the Merkle tree and signing key."""

    def __init__(
        self,
        spec: LogSpec,
        directory: Path,
        *,
        seed: int,
        period_start: datetime,
        templates: Sequence[Template],
        leaf_values: LeafValues,
    ) -> None:
        self.spec = spec
        self._period_start = period_start
        self._templates = templates
        self._leaf_values = leaf_values
        self.private_key: ec.EllipticCurvePrivateKey = derive_key(seed, f"log/{spec.name}")
        self.public_key_der = spki_der(self.private_key)
        self.log_id = log_id(self.public_key_der)
        self._entries = _map(directory / f"{spec.name}.entries")
        self._hashes = _map(directory / f"{spec.name}.hashes")
        self.size = len(self._entries) // RECORD.size
        self.stats: dict[str, Any] = json.loads((directory / f"{spec.name}.json").read_text())
        self._lock = threading.Lock()
        self._tree: MerkleTree | None = None
        self._index_by_hash: dict[bytes, int] | None = None
        self._tile_levels: list[bytes] = []

    @property
    def tree(self) -> MerkleTree:
        """The Merkle tree over all entries, built on first use (about a second per million)."""
        with self._lock:
            if self._tree is None:
                tree = MerkleTree()
                for start in range(0, self.size, 65536):
                    end = min(start + 65536, self.size)
                    tree.extend(self._hashes[i * _HASH : (i + 1) * _HASH] for i in range(start, end))
                self._tree = tree
            return self._tree

    def record(self, index: int) -> EntryRecord:
        return EntryRecord(*RECORD.unpack_from(self._entries, index * RECORD.size))

    def leaf_hash(self, index: int) -> bytes:
        return bytes(self._hashes[index * _HASH : (index + 1) * _HASH])

    def leaf_hashes(self, start: int, end: int) -> bytes:
        return bytes(self._hashes[start * _HASH : end * _HASH])

    def index_of_leaf_hash(self, value: bytes) -> int | None:
        with self._lock:
            if self._index_by_hash is None:
                self._index_by_hash = {self.leaf_hash(i): i for i in range(self.size)}
            return self._index_by_hash.get(value)

    def size_as_of(self, as_of_ms: int) -> int:
        """Entries integrated at or before `as_of_ms`: a prefix of the log."""
        lo, hi = 0, self.size
        while lo < hi:
            mid = (lo + hi) // 2
            (integrated,) = struct.unpack_from(">Q", self._entries, mid * RECORD.size)
            if integrated <= as_of_ms:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def last_integrated_ms(self, size: int) -> int:
        """Timestamp of a tree head of `size`: the last entry's integration (the period start if empty)."""
        if size == 0:
            return int(self._period_start.timestamp() * 1000)
        return self.record(size - 1).integrated_ms

    def _values(self, index: int) -> tuple[Template, tuple[bytes, ...]]:
        rec = self.record(index)
        template = self._templates[rec.template]
        values = self._leaf_values(
            template,
            timestamp_ms=rec.timestamp_ms,
            serial=rec.serial,
            not_before_hour=rec.not_before_hour,
            host_number=rec.host_number,
            index=index,
        )
        return template, values

    def leaf_input(self, index: int) -> bytes:
        template, values = self._values(index)
        return template.leaf_input[self.spec.kind].render(values)

    def extra_data(self, index: int) -> bytes:
        template, values = self._values(index)
        return template.extra_data.render(values)

    def tile_leaf(self, index: int) -> bytes:
        template, values = self._values(index)
        return template.tile_leaf.render(values)

    def certificate(self, index: int) -> bytes:
        """The logged certificate: the leaf, or the precertificate with its poison."""
        template, values = self._values(index)
        return template.certificate.render(values)

    def template_of(self, index: int) -> Template:
        return self._templates[self.record(index).template]

    def subtree_hashes(self, level: int, start: int, end: int) -> bytes:
        """Hashes of the complete subtrees of 256**level leaves with indices [start, end) (hash tiles)."""
        if level == 0:
            return self.leaf_hashes(start, end)
        with self._lock:
            while len(self._tile_levels) < level:
                below = self._tile_levels[-1] if self._tile_levels else self.leaf_hashes(0, self.size)
                count = len(below) // _HASH // TILE_WIDTH
                step = TILE_WIDTH * _HASH
                self._tile_levels.append(
                    b"".join(
                        root_hash([below[p : p + _HASH] for p in range(n * step, (n + 1) * step, _HASH)])
                        for n in range(count)
                    )
                )
            return self._tile_levels[level - 1][start * _HASH : end * _HASH]


def _map(path: Path) -> mmap.mmap | bytes:
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return b""
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


def write_log(log: LogSpec, records: list[bytes], templates: list[Template], directory: Path) -> None:
    """Write the files of `log` into `directory` from its packed records, already in log order."""
    leaf_values = LeafValues()
    first_by_template: dict[int, int] = {}
    per_template: dict[int, int] = {}
    hashes = bytearray()
    with (directory / f"{log.name}.entries").open("wb") as out:
        for start in range(0, len(records), 65536):
            out.write(b"".join(records[start : start + 65536]))
    for index, packed in enumerate(records):
        _, timestamp_ms, hour, host, template_no, serial = RECORD.unpack(packed)
        if template_no not in first_by_template:
            first_by_template[template_no] = index
            per_template[template_no] = 0
        per_template[template_no] += 1
        template = templates[template_no]
        values = leaf_values(
            template,
            timestamp_ms=timestamp_ms,
            serial=serial,
            not_before_hour=hour,
            host_number=host,
            index=index,
        )
        hashes += leaf_hash(template.leaf_input[log.kind].render(values))
    (directory / f"{log.name}.hashes").write_bytes(hashes)
    entries_per_issuer: dict[str, int] = {}
    precerts = 0
    first_index_by_ca: dict[str, int] = {}
    for template_no, count in per_template.items():
        template = templates[template_no]
        entries_per_issuer[template.issuer_cert_id] = (
            entries_per_issuer.get(template.issuer_cert_id, 0) + count
        )
        precerts += count if template.precert else 0
        for cert_id in template.chain_ids:
            index = first_by_template[template_no]
            first_index_by_ca[cert_id] = min(first_index_by_ca.get(cert_id, index), index)
    stats = {
        "entries_per_issuer": entries_per_issuer,
        "precerts": precerts,
        "first_index_by_ca": first_index_by_ca,
    }
    (directory / f"{log.name}.json").write_text(json.dumps(stats, sort_keys=True))
