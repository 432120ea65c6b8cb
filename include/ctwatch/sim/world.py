"""World generation: the CA hierarchy, the logs' entries and Merkle trees, and the ground truth.

Generation is deterministic for a (scenario, seed). CA certificates and tree heads are really
signed; leaves come from per-issuer templates (see ctwatch.sim.pki). Each log is stored in the
cache directory as two flat files, memory-mapped when served:

- `<log>.entries`: one 42-byte record per entry in log order, big-endian
  (integrated_ms u64, timestamp_ms u64, not_before_hour u32, host_number u32, template u16, serial 16 bytes);
  the leaf input and extra data are rebuilt from the record and the template in microseconds,
  which is far smaller than storing ~1.5 KB of bytes per entry;
- `<log>.hashes`: the 32-byte leaf hashes, in the same order.

`integrated_ms` is when the log sequenced the entry (timestamp + a delay below the MMD): the log
order, and the as-of cut (the tree as of T holds the entries integrated at or before T, a prefix).
Entry timestamps are therefore not monotonic within the MMD, as in real logs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mmap
import os
import random
import shutil
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from ctwatch.ct.entries import (
    EntryType,
    encode_merkle_tree_leaf,
    encode_precert_extra_data,
    encode_tile_leaf,
    encode_timestamped_entry,
    encode_x509_extra_data,
    leaf_index_extension,
)
from ctwatch.ct.merkle import MerkleTree, leaf_hash, root_hash
from ctwatch.ct.signatures import log_id
from ctwatch.sim.pki import (
    HOST_SENTINEL,
    NOT_AFTER_SENTINEL,
    NOT_BEFORE_SENTINEL,
    SERIAL_SENTINEL,
    CaCert,
    Hierarchy,
    derive_key,
    spki_der,
)
from ctwatch.sim.revocations import RevocationWorld
from ctwatch.sim.scenario import LogKind, LogSpec, Scenario

CACHE_FORMAT = "v1"
RECORD = struct.Struct(">QQIIH16s")
_HASH = 32
_TILE_WIDTH = 256

_TIMESTAMP_SENTINEL = b"TSSENTNL"
_INDEX_SENTINEL = b"IXSNT"
# Values are passed to templates in this order: (timestamp, serial, notBefore, notAfter, host, leaf index).
_SENTINELS = (
    _TIMESTAMP_SENTINEL,
    SERIAL_SENTINEL,
    NOT_BEFORE_SENTINEL.strftime("%y%m%d%H%M%SZ").encode(),
    NOT_AFTER_SENTINEL.strftime("%y%m%d%H%M%SZ").encode(),
    HOST_SENTINEL.encode(),
    _INDEX_SENTINEL,
)


def default_cache_dir() -> Path:
    return Path(os.environ.get("CTWATCH_DATA_DIR", "data")) / "sim-cache"


class _Pattern:
    """Bytes with fixed-length holes: `render(values)` fills every sentinel occurrence in one C call."""

    def __init__(self, data: bytes) -> None:
        holes: list[tuple[int, int, int]] = []
        for field_no, sentinel in enumerate(_SENTINELS):
            start = data.find(sentinel)
            while start >= 0:
                holes.append((start, field_no, len(sentinel)))
                start = data.find(sentinel, start + len(sentinel))
        holes.sort()
        pieces, pos = [], 0
        for start, _, length in holes:
            pieces.append(data[pos:start].replace(b"%", b"%%"))
            pos = start + length
        pieces.append(data[pos:].replace(b"%", b"%%"))
        self._format = b"%b".join(pieces)
        self._constant = data if not holes else None
        order = [field_no for _, field_no, _ in holes]
        self._pick: Callable[[tuple[bytes, ...]], Any] = (
            itemgetter(*order) if len(order) > 1 else itemgetter(0, 0)
        )
        self.fields = frozenset(order)

    def render(self, values: tuple[bytes, ...]) -> bytes:
        if self._constant is not None:
            return self._constant
        rendered: bytes = self._format % self._pick(values)
        return rendered


@dataclass(frozen=True, slots=True)
class Template:
    """Everything needed to render the entries issued under one issuing certificate, x509 or precert."""

    issuer_cert_id: str
    precert: bool
    chain_ids: tuple[str, ...]  # extra_data chain: issuing certificate up to the root
    leaf_input: dict[LogKind, _Pattern]
    extra_data: _Pattern
    tile_leaf: _Pattern  # static-ct TileLeaf
    certificate: _Pattern  # the leaf (x509) or the poisoned precertificate


def _build_template(hierarchy: Hierarchy, issuer_cert_id: str, *, precert: bool) -> Template:
    """RFC 6962 §3.1/3.4 structures around a sentinel leaf; static-ct adds the LeafIndex extension."""
    chain_ids = hierarchy.certs[issuer_cert_id].chain_ids
    chain_ders = [hierarchy.certs[c].der for c in chain_ids]
    certificate = hierarchy.leaf_template(issuer_cert_id, precert=precert)
    timestamp = int.from_bytes(_TIMESTAMP_SENTINEL, "big")
    static_ext = leaf_index_extension(int.from_bytes(_INDEX_SENTINEL, "big"))
    if precert:
        entry_type = EntryType.PRECERT
        tbs = _tbs_of(hierarchy.leaf_template(issuer_cert_id, precert=True, poison=False))
        key_hash = hierarchy.issuer_key_hash(issuer_cert_id)
        rfc_entry = encode_timestamped_entry(timestamp, entry_type, tbs, key_hash)
        static_entry = encode_timestamped_entry(timestamp, entry_type, tbs, key_hash, static_ext)
        extra_data = encode_precert_extra_data(certificate, chain_ders)
    else:
        entry_type = EntryType.X509
        rfc_entry = encode_timestamped_entry(timestamp, entry_type, certificate)
        static_entry = encode_timestamped_entry(timestamp, entry_type, certificate, extensions=static_ext)
        extra_data = encode_x509_extra_data(chain_ders)
    fingerprints = [hashlib.sha256(d).digest() for d in chain_ders]
    tile_leaf = encode_tile_leaf(static_entry, entry_type, certificate if precert else None, fingerprints)
    return Template(
        issuer_cert_id=issuer_cert_id,
        precert=precert,
        chain_ids=chain_ids,
        leaf_input={
            LogKind.RFC6962: _Pattern(encode_merkle_tree_leaf(rfc_entry)),
            LogKind.STATIC: _Pattern(encode_merkle_tree_leaf(static_entry)),
        },
        extra_data=_Pattern(extra_data),
        tile_leaf=_Pattern(tile_leaf),
        certificate=_Pattern(certificate),
    )


def _tbs_of(der: bytes) -> bytes:
    """The TBSCertificate element of a certificate: the first element inside the outer SEQUENCE."""
    pos = 1 + _length_size(der, 1)
    return der[pos : pos + 1 + _length_size(der, pos + 1) + _der_length(der, pos + 1)]


def _length_size(der: bytes, pos: int) -> int:
    return 1 if der[pos] < 0x80 else 1 + (der[pos] & 0x7F)


def _der_length(der: bytes, pos: int) -> int:
    if der[pos] < 0x80:
        return der[pos]
    count = der[pos] & 0x7F
    return int.from_bytes(der[pos + 1 : pos + 1 + count], "big")


@dataclass(frozen=True, slots=True)
class EntryRecord:
    integrated_ms: int
    timestamp_ms: int
    not_before_hour: int
    host_number: int
    template: int
    serial: bytes


class _UtcTimes:
    """UTCTime bytes per hour since the epoch, cached: leaves are issued on the hour."""

    def __init__(self) -> None:
        self._cache: dict[int, bytes] = {}

    def __call__(self, hour: int) -> bytes:
        value = self._cache.get(hour)
        if value is None:
            value = time.strftime("%y%m%d%H%M%SZ", time.gmtime(hour * 3600)).encode()
            self._cache[hour] = value
        return value


class SimLog:
    """One generated log: entries (memory-mapped), leaf hashes, the Merkle tree and signing key."""

    def __init__(self, world: World, spec: LogSpec, directory: Path) -> None:
        self.world = world
        self.spec = spec
        self.private_key: ec.EllipticCurvePrivateKey = derive_key(world.seed, f"log/{spec.name}")
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
            return int(self.world.scenario.start.timestamp() * 1000)
        return self.record(size - 1).integrated_ms

    def _values(self, index: int) -> tuple[Template, tuple[bytes, ...]]:
        rec = self.record(index)
        template = self.world.templates[rec.template]
        values = (
            rec.timestamp_ms.to_bytes(8, "big"),
            rec.serial,
            self.world.utc_time(rec.not_before_hour),
            self.world.utc_time(rec.not_before_hour + self.world.validity_hours),
            b"%08d" % rec.host_number,
            index.to_bytes(5, "big"),
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
        return self.world.templates[self.record(index).template]

    def subtree_hashes(self, level: int, start: int, end: int) -> bytes:
        """Hashes of the complete subtrees of 256**level leaves with indices [start, end) (hash tiles)."""
        if level == 0:
            return self.leaf_hashes(start, end)
        with self._lock:
            while len(self._tile_levels) < level:
                below = self._tile_levels[-1] if self._tile_levels else self.leaf_hashes(0, self.size)
                count = len(below) // _HASH // _TILE_WIDTH
                step = _TILE_WIDTH * _HASH
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


class World:
    """A generated world: load it with `World.load(scenario)` (generates and caches on first use)."""

    def __init__(self, scenario: Scenario, seed: int, directory: Path, *, generated: bool = False) -> None:
        self.scenario = scenario
        self.generated = generated  # True when this load generated the entries (not from the cache)
        self.seed = seed
        self.directory = directory
        self.hierarchy = Hierarchy(scenario, seed)
        self.templates = _templates(self.hierarchy)
        self.validity_hours = scenario.leaf_validity_days * 24
        self.utc_time = _UtcTimes()
        self.logs = {spec.name: SimLog(self, spec, directory) for spec in scenario.logs}

    @property
    def ca_certs(self) -> dict[str, CaCert]:
        return self.hierarchy.certs

    @cached_property
    def revocations(self) -> RevocationWorld:
        """The revocation timelines (CRL, OCSP, CCADB, OneCRL, CRLSet, crt.sh, Bugzilla) of the world."""
        return RevocationWorld(self)

    @classmethod
    def load(cls, scenario: Scenario, *, seed: int | None = None, cache_dir: Path | None = None) -> World:
        """The world of `scenario` (with `seed` overriding the file's), from the cache or generated."""
        seed = scenario.seed if seed is None else seed
        root = cache_dir if cache_dir is not None else default_cache_dir()
        directory = root / f"{scenario.source_sha256[:20]}-{seed}-{CACHE_FORMAT}"
        generated = not (directory / "complete").exists()
        if generated:
            root.mkdir(parents=True, exist_ok=True)
            staging = root / f".{directory.name}.{os.getpid()}.{threading.get_ident()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            generate_entries(scenario, seed, staging)
            (staging / "complete").write_text(datetime.now(UTC).isoformat())
            try:
                staging.rename(directory)
            except OSError:  # another process finished first: its files are identical
                shutil.rmtree(staging, ignore_errors=True)
        return cls(scenario, seed, directory, generated=generated)

    def hostnames(self) -> list[str]:
        """Every hostname the certificates name in CRL, OCSP and caIssuers URLs (see pki._hosts)."""
        slugs = {self.scenario.owner_slug(ca.host_slug_owner) for ca in self.scenario.cas}
        return sorted(f"{service}.{slug}.example" for slug in slugs for service in ("crl", "ocsp", "aia"))

    def ground_truth(self) -> dict[str, Any]:
        """JSON-ready description of what the world contains, for tests to compare with."""
        cas = []
        for cert in self.ca_certs.values():
            spec = cert.spec
            cas.append(
                {
                    "cert_id": cert.cert_id,
                    "der_sha256": cert.der_sha256,
                    "spki_sha256": hashlib.sha256(spki_der(self.hierarchy.key(cert.key_group))).hexdigest(),
                    "key_group": cert.key_group,
                    "kind": cert.kind,
                    "owner": spec.owner,
                    "subordinate_owner": spec.subordinate_owner,
                    "issuer_cert_id": cert.chain_ids[1] if len(cert.chain_ids) > 1 else None,
                    "ocsp_signing": _has_ocsp_signing(cert),
                    "ocsp_nocheck": spec.ocsp_nocheck and _has_ocsp_signing(cert),
                    "technically_constrained": bool(spec.permitted_dns) and cert.sub_ca_profile,
                    "reissue_of": cert.reissue_of,
                    "cross_of": spec.cross_of,
                    "leaves_from": spec.leaves_from.isoformat() if spec.leaves_from else None,
                    "not_before": _x509_time(self.hierarchy, cert).isoformat(),
                }
            )
        logs = {}
        for name, log in self.logs.items():
            logs[name] = {
                "kind": log.spec.kind.value,
                "log_id_b64": _b64(log.log_id),
                "size": log.size,
                "entries_per_issuer": log.stats["entries_per_issuer"],
                "precerts": log.stats["precerts"],
                "first_index_by_ca": log.stats["first_index_by_ca"],
            }
        flagged = sorted(cert.cert_id for cert in self.ca_certs.values() if _has_ocsp_signing(cert))
        first_seen = {}
        for cert_id in flagged:
            places = [
                (name, info["first_index_by_ca"][cert_id])
                for name, info in logs.items()
                if cert_id in info["first_index_by_ca"]
            ]
            first_seen[cert_id] = [{"log": n, "index": i} for n, i in places]
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "ca_certificates": cas,
            "logs": logs,
            "ocsp_signing_ca_first_seen": first_seen,
            "revocation": self.revocations.ground_truth(),
        }


def _has_ocsp_signing(cert: CaCert) -> bool:
    """Only the subordinate CA profile carries EKUs in the simulated hierarchy."""
    return cert.spec.ocsp_signing and cert.sub_ca_profile


def _x509_time(hierarchy: Hierarchy, cert: CaCert) -> datetime:
    if cert.reissue_of is None:
        return cert.spec.not_before
    number = int(cert.cert_id.rsplit(".r", 1)[1])
    return hierarchy.scenario.ca(cert.reissue_of).reissued_at[number - 1]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _issuing_variants(hierarchy: Hierarchy) -> dict[str, list[tuple[datetime, str]]]:
    """Per intermediate id with leaves: (valid from, issuing certificate id), oldest first."""
    variants: dict[str, list[tuple[datetime, str]]] = {}
    for cert in hierarchy.certs.values():
        spec = cert.spec
        if spec.leaves + spec.precerts == 0 or spec.parent is None or spec.cross_of:
            continue
        variants.setdefault(spec.id, []).append((_x509_time(hierarchy, cert), cert.cert_id))
    return {k: sorted(v) for k, v in variants.items()}


def _templates(hierarchy: Hierarchy) -> list[Template]:
    """Templates in a fixed order: per issuing certificate, x509 then precert."""
    out = []
    for variants in _issuing_variants(hierarchy).values():
        for _, cert_id in variants:
            out.append(_build_template(hierarchy, cert_id, precert=False))
            out.append(_build_template(hierarchy, cert_id, precert=True))
    return out


def generate_entries(scenario: Scenario, seed: int, directory: Path) -> None:
    """Write the entries, leaf hashes and statistics of every log of the world into `directory`."""
    hierarchy = Hierarchy(scenario, seed)
    templates = _templates(hierarchy)
    template_no = {(t.issuer_cert_id, t.precert): n for n, t in enumerate(templates)}
    rng = random.Random(f"ctwatch-sim/{seed}/entries")  # noqa: S311 - reproducible test data, not secrets
    start_s, end_s = int(scenario.start.timestamp()), int(scenario.end.timestamp())
    validity = timedelta(days=scenario.leaf_validity_days)
    pending: dict[str, list[bytes]] = {log.name: [] for log in scenario.logs}
    host_number = 0
    for ca_id, variants in _issuing_variants(hierarchy).items():
        spec = scenario.ca(ca_id)
        lo = max(start_s, int(spec.not_before.timestamp()))
        if spec.leaves_from is not None:
            lo = max(lo, int(spec.leaves_from.timestamp()))
        hi = min(end_s, int(spec.not_after.timestamp()))
        if hi <= lo:
            continue
        logs = [scenario.log(n) for n in spec.logs] if spec.logs else list(scenario.logs)
        starts = [int(at.timestamp()) for at, _ in variants]
        for precert, count in ((False, spec.leaves), (True, spec.precerts)):
            for _ in range(count):
                issued_s = lo + rng.randrange(hi - lo)
                # The newest issuing certificates valid at issuance (re-issues of one date share the work).
                newest = max((s for s in starts if s <= issued_s), default=starts[0])
                candidates = [v for s, v in zip(starts, variants, strict=True) if s == newest]
                template = template_no[(rng.choice(candidates)[1], precert)]
                hour = issued_s // 3600
                not_after = datetime.fromtimestamp(hour * 3600, UTC) + validity
                serial = (rng.getrandbits(126) | 1 << 126).to_bytes(16, "big")
                host_number += 1
                for log in logs:
                    if not log.accepts_not_after(not_after):
                        continue
                    timestamp_ms = issued_s * 1000 + rng.randrange(10_000)
                    integrated_ms = timestamp_ms + rng.randrange(max(1, min(log.mmd_s, 3600) * 1000))
                    pending[log.name].append(
                        RECORD.pack(integrated_ms, timestamp_ms, hour, host_number, template, serial)
                    )
    for log in scenario.logs:
        records = pending.pop(log.name)
        records.sort()
        _write_log(log, records, templates, scenario.leaf_validity_days * 24, directory)


def _write_log(
    log: LogSpec, records: list[bytes], templates: list[Template], validity_hours: int, directory: Path
) -> None:
    utc_time = _UtcTimes()
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
        values = (
            timestamp_ms.to_bytes(8, "big"),
            serial,
            utc_time(hour),
            utc_time(hour + validity_hours),
            b"%08d" % host,
            index.to_bytes(5, "big"),
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
