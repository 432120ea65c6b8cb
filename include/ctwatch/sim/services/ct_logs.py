"""The CT log endpoints of the simulator: RFC 6962 (get-sth, get-sth-consistency, get-proof-by-hash,
get-entries, get-roots), static-ct-api (checkpoint, hash and data tiles, issuers), the v3 log list,
and the faults that change their answers (forked trees, bad signatures, corrupt or short batches).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ctwatch.ct.merkle import MerkleTree, leaf_hash
from ctwatch.ct.signatures import sign_checkpoint, sign_tree_head
from ctwatch.sim.faults import Fault, FaultKind
from ctwatch.sim.formats import b64
from ctwatch.sim.http_messages import HttpError, Response, int_param, json_response
from ctwatch.sim.log_files import TILE_WIDTH, SimLog
from ctwatch.sim.pki import CaCert
from ctwatch.sim.scenario import LogKind

_FORK_LEAF = leaf_hash(b"ctwatch-sim: forked tree")


class LogEndpoints:
    """Answers of the world's logs to one request each, as of the request's time."""

    def __init__(self, ca_certs: Mapping[str, CaCert], *, present_sth: str | None) -> None:
        self._ca_certs = ca_certs
        self._present_sth = present_sth
        self._lock = threading.Lock()
        self._forks: dict[tuple[str, int], MerkleTree] = {}

    # -- tree heads --

    def _tree_head(self, log: SimLog, as_of_ms: int | None, *, forked: bool) -> tuple[int, int, bytes]:
        """(size, timestamp_ms, root) of the head served for this request."""
        size = log.size if as_of_ms is None else log.size_as_of(as_of_ms)
        if as_of_ms is not None:
            timestamp_ms = as_of_ms
        elif (self._present_sth or log.spec.present_sth) == "now":
            timestamp_ms = int(time.time() * 1000)
        else:
            timestamp_ms = log.last_integrated_ms(size)
        tree = self._fork(log, size) if forked and size else log.tree
        return size, timestamp_ms, tree.root(size)

    def _fork(self, log: SimLog, size: int) -> MerkleTree:
        """The tree of `size` with its first leaf replaced: every head and proof of it contradicts the
        honest heads of any size, so a monitor holding an earlier head can tell."""
        key = (log.spec.name, size)
        with self._lock:
            if key not in self._forks:
                tree = MerkleTree([_FORK_LEAF])
                tree.extend(log.leaf_hash(i) for i in range(1, size))
                self._forks[key] = tree
            return self._forks[key]

    # -- RFC 6962 --

    def rfc6962(
        self,
        log: SimLog,
        endpoint: str,
        query: dict[str, list[str]],
        as_of_ms: int | None,
        faults: dict[FaultKind, Fault],
    ) -> Response:
        """The answer of `<log>/ct/v1/<endpoint>`, with the faults that fired on the request."""
        visible = log.size if as_of_ms is None else log.size_as_of(as_of_ms)
        if endpoint == "get-sth":
            size, timestamp_ms, root = self._tree_head(
                log, as_of_ms, forked=FaultKind.INCONSISTENT_TREE in faults
            )
            signature = sign_tree_head(log.private_key, timestamp_ms, size, root)
            if FaultKind.BAD_STH_SIGNATURE in faults:
                signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
            return json_response(
                {
                    "tree_size": size,
                    "timestamp": timestamp_ms,
                    "sha256_root_hash": b64(root),
                    "tree_head_signature": b64(signature),
                }
            )
        if endpoint == "get-sth-consistency":
            first, second = int_param(query, "first"), int_param(query, "second")
            if not 0 <= first <= second <= visible:
                raise HttpError(400, f"need 0 <= first <= second <= {visible}")
            tree = self._fork(log, second) if FaultKind.INCONSISTENT_TREE in faults and second else log.tree
            return json_response({"consistency": [b64(h) for h in tree.consistency_proof(first, second)]})
        if endpoint == "get-proof-by-hash":
            size = int_param(query, "tree_size")
            try:
                wanted = base64.b64decode(query["hash"][0], validate=True)
            except (KeyError, IndexError, binascii.Error) as exc:
                raise HttpError(400, "missing or invalid parameter 'hash'") from exc
            if not 1 <= size <= visible:
                raise HttpError(400, f"tree_size must be within 1..{visible}")
            index = log.index_of_leaf_hash(wanted)
            if index is None or index >= size:
                raise HttpError(404, "hash not found in the tree of that size")
            return json_response(
                {"leaf_index": index, "audit_path": [b64(h) for h in log.tree.inclusion_proof(index, size)]}
            )
        if endpoint == "get-entries":
            start, end = int_param(query, "start"), int_param(query, "end")
            if start < 0 or end < start or start >= visible:
                raise HttpError(400, f"need 0 <= start <= end and start < tree size {visible}")
            batch = log.spec.max_batch
            if FaultKind.SHORT_BATCH in faults:
                batch = min(batch, faults[FaultKind.SHORT_BATCH].entries)
            stop = min(end + 1, visible, start + batch)  # RFC 6962's end is inclusive
            entries = []
            for index in range(start, stop):
                leaf_input = log.leaf_input(index)
                if index == start and FaultKind.CORRUPT_DER in faults:
                    precert = log.template_of(index).precert
                    leaf_input = _corrupt_certificate(leaf_input, precert=precert, merkle_leaf=True)
                entries.append({"leaf_input": b64(leaf_input), "extra_data": b64(log.extra_data(index))})
            return json_response({"entries": entries})
        if endpoint == "get-roots":
            roots = [c.der for c in self._ca_certs.values() if c.kind == "root"]
            return json_response({"certificates": [b64(d) for d in roots]})
        raise HttpError(404, f"unknown endpoint {endpoint}")

    # -- static-ct-api --

    @staticmethod
    def static_endpoint(rest: list[str]) -> str:
        """The endpoint name (as faults and counters know it) of a static-ct-api path."""
        if rest == ["checkpoint"]:
            return "checkpoint"
        if rest[:2] == ["tile", "data"]:
            return "data-tile"
        if rest[:1] == ["tile"]:
            return "tile"
        if rest[:1] == ["issuer"] and len(rest) == 2:
            return "issuer"
        raise HttpError(404, "not found")

    def static(
        self,
        log: SimLog,
        rest: list[str],
        as_of_ms: int | None,
        faults: dict[FaultKind, Fault],
        *,
        origin: str,
        gzip_ok: bool,
    ) -> Response:
        """The answer of a static-ct-api path (`rest` after `<log>/`), with the faults that fired."""
        visible = log.size if as_of_ms is None else log.size_as_of(as_of_ms)
        endpoint = self.static_endpoint(rest)
        if endpoint == "checkpoint":
            size, timestamp_ms, root = self._tree_head(
                log, as_of_ms, forked=FaultKind.INCONSISTENT_TREE in faults
            )
            note = sign_checkpoint(origin, size, root, timestamp_ms, log.private_key, log.public_key_der)
            if FaultKind.BAD_STH_SIGNATURE in faults:
                note = _flip_note_signature(note)
            return Response(200, note, "text/plain; charset=utf-8")
        if endpoint == "issuer":
            for cert in self._ca_certs.values():
                if cert.der_sha256 == rest[1]:
                    return Response(200, cert.der, "application/pkix-cert")
            raise HttpError(404, "unknown issuer")
        level = 0 if endpoint == "data-tile" else _tile_level(rest[1])
        index, width = _tile_index(rest[2:])
        available = visible // TILE_WIDTH**level
        count = width if width is not None else TILE_WIDTH
        start = index * TILE_WIDTH
        if start + count > available:
            raise HttpError(404, "tile not available for this tree size")
        if endpoint == "tile":
            return Response(200, log.subtree_hashes(level, start, start + count), "application/octet-stream")
        leaves = [log.tile_leaf(i) for i in range(start, start + count)]
        if FaultKind.CORRUPT_DER in faults:
            leaves[0] = _corrupt_certificate(
                leaves[0], precert=log.template_of(start).precert, merkle_leaf=False
            )
        body = b"".join(leaves)
        if gzip_ok:
            return Response(
                200, gzip.compress(body, 1), "application/octet-stream", (("Content-Encoding", "gzip"),)
            )
        return Response(200, body, "application/octet-stream")


def log_list(
    logs: Mapping[str, SimLog], period_start: datetime, log_url: Callable[[str], str]
) -> dict[str, Any]:
    """A Google v3 log list of the simulated logs (`tiled_logs` for static-ct ones)."""
    operators: dict[str, dict[str, Any]] = {}
    for name, log in logs.items():
        spec = log.spec
        operator = operators.setdefault(
            spec.operator,
            {"name": spec.operator, "email": ["ct@sim.example"], "logs": [], "tiled_logs": []},
        )
        entry: dict[str, Any] = {
            "description": f"ctwatch simulated log {name}",
            "log_id": b64(log.log_id),
            "key": b64(log.public_key_der),
            "mmd": spec.mmd_s,
            "state": {spec.state: {"timestamp": period_start.strftime("%Y-%m-%dT%H:%M:%SZ")}},
        }
        if spec.temporal_start is not None and spec.temporal_end is not None:
            entry["temporal_interval"] = {
                "start_inclusive": spec.temporal_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end_exclusive": spec.temporal_end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        if spec.kind is LogKind.RFC6962:
            operator["logs"].append({**entry, "url": log_url(name)})
        else:
            operator["tiled_logs"].append(
                {**entry, "submission_url": log_url(name), "monitoring_url": log_url(name)}
            )
    return {
        "version": "ctwatch-sim-1",
        "log_list_timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "operators": list(operators.values()),
    }


def _tile_index(parts: list[str]) -> tuple[int, int | None]:
    """(N, W) from the path elements of `<N>[.p/<W>]`, N as x001/x234/067."""
    width: int | None = None
    if len(parts) >= 2 and parts[-2].endswith(".p"):
        if not re.fullmatch(r"[1-9][0-9]{0,2}", parts[-1]) or int(parts[-1]) > 255:
            raise HttpError(400, "bad partial tile width")
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2][:-2]]
    if not parts or any(not re.fullmatch(r"x[0-9]{3}", p) for p in parts[:-1]):
        raise HttpError(400, "bad tile index")
    if not re.fullmatch(r"[0-9]{3}", parts[-1]):
        raise HttpError(400, "bad tile index")
    return int("".join(p.lstrip("x") for p in parts)), width


def _tile_level(text: str) -> int:
    if not re.fullmatch(r"[0-5]", text):
        raise HttpError(400, "tile level must be 0..5")
    return int(text)


def _corrupt_certificate(data: bytes, *, precert: bool, merkle_leaf: bool) -> bytes:
    """Break the DER of the certificate (or precert TBS) in a MerkleTreeLeaf or TileLeaf: its SEQUENCE
    tag becomes SET. Offsets: [version, leaf_type] + timestamp + entry_type [+ issuer_key_hash] + length."""
    offset = (2 if merkle_leaf else 0) + 8 + 2 + (32 if precert else 0) + 3
    return data[:offset] + b"\x31" + data[offset + 1 :]


def _flip_note_signature(note: bytes) -> bytes:
    body, _, signature_line = note.rstrip(b"\n").rpartition(b"\n")
    prefix, _, encoded = signature_line.rpartition(b" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 0x01
    return body + b"\n" + prefix + b" " + base64.b64encode(bytes(raw)) + b"\n"
