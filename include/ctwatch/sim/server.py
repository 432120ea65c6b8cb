"""HTTP servers for a generated world, on 127.0.0.1, one port with path prefixes.

Layout (BASE = http://127.0.0.1:PORT):

- BASE/log_list.json                      Google v3 log list of the simulated logs
- BASE/logs/<name>/ct/v1/<endpoint>       RFC 6962 logs (get-sth, get-sth-consistency, get-proof-by-hash,
                                          get-entries, get-roots)
- BASE/logs/<name>/checkpoint, /tile/<L>/<N>[.p/<W>], /tile/data/<N>[.p/<W>], /issuer/<sha256 hex>
                                          static-ct-api logs (monitoring prefix = submission prefix)
- BASE/hosts/<hostname>/<path>            the stable hostnames certificates name (crl.<slug>.example, ...),
                                          reached through `url_rewrite()`; aia.* serves CA certificates

The as-of time travels with each request in the `X-Ctwatch-As-Of` header (RFC 3339): the log answers
with its tree as of then. Without the header a log serves its whole generated tree; the tree head
timestamp is then the last entry's integration time, or the real current time when the log's
`present_sth` is "now" (monitors such as certspotter distrust heads far in the past).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ctwatch.ct.merkle import MerkleTree, leaf_hash
from ctwatch.ct.signatures import sign_checkpoint, sign_tree_head
from ctwatch.sim.scenario import Fault, FaultKind, LogKind, Scenario, load_scenario
from ctwatch.sim.world import SimLog, World

AS_OF_HEADER = "X-Ctwatch-As-Of"
_FORK_LEAF = leaf_hash(b"ctwatch-sim: forked tree")
_TILE_WIDTH = 256
_log = logging.getLogger(__name__)


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


def _json(value: Any) -> Response:
    return Response(200, json.dumps(value).encode(), "application/json")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _int_param(query: dict[str, list[str]], name: str) -> int:
    try:
        return int(query[name][0])
    except (KeyError, ValueError, IndexError) as exc:
        raise HttpError(400, f"missing or invalid parameter {name!r}") from exc


def parse_as_of(value: str | None) -> int | None:
    """Milliseconds since the epoch of an RFC 3339 header value (None when absent)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise HttpError(400, f"{AS_OF_HEADER} is not RFC 3339: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


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


class _FaultState:
    """Faults per log with their request counters (deterministic: counted per fault from 1)."""

    def __init__(self, faults: tuple[Fault, ...]) -> None:
        self.faults = list(faults)
        self.counters = [0] * len(faults)

    def fired(self, endpoint: str) -> list[Fault]:
        hits = []
        for number, fault in enumerate(self.faults):
            if fault.applies_to(endpoint):
                self.counters[number] += 1
                if fault.fires(self.counters[number]):
                    hits.append(fault)
        return hits


class Simulator:
    """Request handling for a world (independent of the socket server, so it can be unit-tested)."""

    def __init__(self, world: World, *, present_sth: str | None = None) -> None:
        self.world = world
        self.base_url = ""
        self._present_sth = present_sth
        self._lock = threading.Lock()
        self._faults = {name: _FaultState(log.spec.faults) for name, log in world.logs.items()}
        self._requests: dict[tuple[str, str], int] = {}
        self._forks: dict[tuple[str, int], MerkleTree] = {}

    # -- configuration and observation (tests) --

    def set_faults(self, log_name: str, faults: list[Fault]) -> None:
        with self._lock:
            self._faults[log_name] = _FaultState(tuple(faults))

    def request_count(self, log_name: str, endpoint: str) -> int:
        with self._lock:
            return self._requests.get((log_name, endpoint), 0)

    def log_url(self, name: str) -> str:
        return f"{self.base_url}/logs/{name}/"

    def url_rewrite(self) -> dict[str, str]:
        """Stable URL prefix -> simulator URL prefix, for every hostname the certificates name."""
        return {f"http://{host}/": f"{self.base_url}/hosts/{host}/" for host in self.world.hostnames()}

    def log_list(self) -> dict[str, Any]:
        """A Google v3 log list of the simulated logs (`tiled_logs` for static-ct ones)."""
        operators: dict[str, dict[str, Any]] = {}
        for name, log in self.world.logs.items():
            spec = log.spec
            operator = operators.setdefault(
                spec.operator,
                {"name": spec.operator, "email": ["ct@sim.example"], "logs": [], "tiled_logs": []},
            )
            entry: dict[str, Any] = {
                "description": f"ctwatch simulated log {name}",
                "log_id": _b64(log.log_id),
                "key": _b64(log.public_key_der),
                "mmd": spec.mmd_s,
                "state": {
                    spec.state: {"timestamp": self.world.scenario.start.strftime("%Y-%m-%dT%H:%M:%SZ")}
                },
            }
            if spec.temporal_start is not None and spec.temporal_end is not None:
                entry["temporal_interval"] = {
                    "start_inclusive": spec.temporal_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "end_exclusive": spec.temporal_end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            if spec.kind is LogKind.RFC6962:
                operator["logs"].append({**entry, "url": self.log_url(name)})
            else:
                operator["tiled_logs"].append(
                    {**entry, "submission_url": self.log_url(name), "monitoring_url": self.log_url(name)}
                )
        return {
            "version": "ctwatch-sim-1",
            "log_list_timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "operators": list(operators.values()),
        }

    def write_log_list(self, path: Path) -> Path:
        path.write_text(json.dumps(self.log_list(), indent=2))
        return path

    # -- dispatch --

    def handle(self, path: str, headers: dict[str, str]) -> Response:
        """Answer one GET; never raises (errors become HTTP statuses)."""
        try:
            return self._route(path, headers)
        except HttpError as exc:
            extra = tuple(exc.headers.items())
            body = json.dumps({"error": exc.message}).encode()
            return Response(exc.status, body, "application/json", extra)
        except Exception:  # a simulator bug must show as a 500, not kill the server thread
            _log.exception("simulator failed on %s", path)
            return Response(500, b'{"error": "simulator internal error"}', "application/json")

    def _route(self, path: str, headers: dict[str, str]) -> Response:
        url = urlsplit(path)
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        if parts == ["log_list.json"]:
            return _json(self.log_list())
        if len(parts) >= 2 and parts[0] == "hosts":
            return self._host(parts[1], parts[2:])
        if len(parts) < 3 or parts[0] != "logs" or parts[1] not in self.world.logs:
            raise HttpError(404, "not found")
        log = self.world.logs[parts[1]]
        rest = parts[2:]
        as_of_ms = parse_as_of(headers.get(AS_OF_HEADER.lower()))
        if log.spec.kind is LogKind.RFC6962 and rest[:2] == ["ct", "v1"] and len(rest) == 3:
            return self._with_faults(
                log, rest[2], lambda faults: self._rfc6962(log, rest[2], query, as_of_ms, faults)
            )
        if log.spec.kind is LogKind.STATIC:
            endpoint = self._static_endpoint(rest)
            gzip_ok = "gzip" in headers.get("accept-encoding", "")
            return self._with_faults(
                log, endpoint, lambda faults: self._static(log, rest, as_of_ms, faults, gzip_ok=gzip_ok)
            )
        raise HttpError(404, "not found")

    def _with_faults(self, log: SimLog, endpoint: str, answer: Any) -> Response:
        with self._lock:
            self._requests[(log.spec.name, endpoint)] = self._requests.get((log.spec.name, endpoint), 0) + 1
            fired = self._faults[log.spec.name].fired(endpoint)
        kinds = {f.kind: f for f in fired}
        if FaultKind.RATE_LIMIT in kinds:
            retry = str(kinds[FaultKind.RATE_LIMIT].retry_after_s)
            raise HttpError(429, "rate limited (simulated)", {"Retry-After": retry})
        if FaultKind.SERVER_ERROR in kinds:
            raise HttpError(
                kinds[FaultKind.SERVER_ERROR].status, "server error (simulated)", {"Retry-After": "1"}
            )
        response: Response = answer(kinds)
        if FaultKind.TRUNCATED_JSON in kinds:
            response = Response(
                response.status, response.body[: len(response.body) // 2], response.content_type
            )
        return response

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

    def _rfc6962(
        self,
        log: SimLog,
        endpoint: str,
        query: dict[str, list[str]],
        as_of_ms: int | None,
        faults: dict[FaultKind, Fault],
    ) -> Response:
        visible = log.size if as_of_ms is None else log.size_as_of(as_of_ms)
        if endpoint == "get-sth":
            size, timestamp_ms, root = self._tree_head(
                log, as_of_ms, forked=FaultKind.INCONSISTENT_TREE in faults
            )
            signature = sign_tree_head(log.private_key, timestamp_ms, size, root)
            if FaultKind.BAD_STH_SIGNATURE in faults:
                signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
            return _json(
                {
                    "tree_size": size,
                    "timestamp": timestamp_ms,
                    "sha256_root_hash": _b64(root),
                    "tree_head_signature": _b64(signature),
                }
            )
        if endpoint == "get-sth-consistency":
            first, second = _int_param(query, "first"), _int_param(query, "second")
            if not 0 <= first <= second <= visible:
                raise HttpError(400, f"need 0 <= first <= second <= {visible}")
            tree = self._fork(log, second) if FaultKind.INCONSISTENT_TREE in faults and second else log.tree
            return _json({"consistency": [_b64(h) for h in tree.consistency_proof(first, second)]})
        if endpoint == "get-proof-by-hash":
            size = _int_param(query, "tree_size")
            try:
                wanted = base64.b64decode(query["hash"][0], validate=True)
            except (KeyError, IndexError, binascii.Error) as exc:
                raise HttpError(400, "missing or invalid parameter 'hash'") from exc
            if not 1 <= size <= visible:
                raise HttpError(400, f"tree_size must be within 1..{visible}")
            index = log.index_of_leaf_hash(wanted)
            if index is None or index >= size:
                raise HttpError(404, "hash not found in the tree of that size")
            return _json(
                {"leaf_index": index, "audit_path": [_b64(h) for h in log.tree.inclusion_proof(index, size)]}
            )
        if endpoint == "get-entries":
            start, end = _int_param(query, "start"), _int_param(query, "end")
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
                entries.append({"leaf_input": _b64(leaf_input), "extra_data": _b64(log.extra_data(index))})
            return _json({"entries": entries})
        if endpoint == "get-roots":
            roots = [c.der for c in self.world.ca_certs.values() if c.kind == "root"]
            return _json({"certificates": [_b64(d) for d in roots]})
        raise HttpError(404, f"unknown endpoint {endpoint}")

    # -- static-ct-api --

    @staticmethod
    def _static_endpoint(rest: list[str]) -> str:
        if rest == ["checkpoint"]:
            return "checkpoint"
        if rest[:2] == ["tile", "data"]:
            return "data-tile"
        if rest[:1] == ["tile"]:
            return "tile"
        if rest[:1] == ["issuer"] and len(rest) == 2:
            return "issuer"
        raise HttpError(404, "not found")

    def origin(self, log: SimLog) -> str:
        """Checkpoint origin: the submission prefix without scheme and trailing slash."""
        return self.log_url(log.spec.name).split("://", 1)[1].rstrip("/")

    def _static(
        self,
        log: SimLog,
        rest: list[str],
        as_of_ms: int | None,
        faults: dict[FaultKind, Fault],
        *,
        gzip_ok: bool,
    ) -> Response:
        visible = log.size if as_of_ms is None else log.size_as_of(as_of_ms)
        endpoint = self._static_endpoint(rest)
        if endpoint == "checkpoint":
            size, timestamp_ms, root = self._tree_head(
                log, as_of_ms, forked=FaultKind.INCONSISTENT_TREE in faults
            )
            note = sign_checkpoint(
                self.origin(log), size, root, timestamp_ms, log.private_key, log.public_key_der
            )
            if FaultKind.BAD_STH_SIGNATURE in faults:
                note = _flip_note_signature(note)
            return Response(200, note, "text/plain; charset=utf-8")
        if endpoint == "issuer":
            for cert in self.world.ca_certs.values():
                if cert.der_sha256 == rest[1]:
                    return Response(200, cert.der, "application/pkix-cert")
            raise HttpError(404, "unknown issuer")
        level = 0 if endpoint == "data-tile" else _tile_level(rest[1])
        index, width = _tile_index(rest[2:])
        available = visible // _TILE_WIDTH**level
        count = width if width is not None else _TILE_WIDTH
        start = index * _TILE_WIDTH
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

    # -- the hostnames certificates name --

    def _host(self, hostname: str, rest: list[str]) -> Response:
        if hostname.startswith("aia.") and len(rest) == 1 and rest[0].endswith(".der"):
            cert = self.world.ca_certs.get(rest[0][: -len(".der")])
            if cert is not None:
                return Response(200, cert.der, "application/pkix-cert")
        raise HttpError(404, f"nothing simulated at http://{hostname}/{'/'.join(rest)}")


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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    simulator: Simulator

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.simulator.handle(self.path, headers)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.address_string(), *args)


class SimulatorRunning:
    """Context manager: serve a world on 127.0.0.1 in a background thread.

    `with SimulatorRunning(scenario_or_path, cache_dir=tmp) as sim: sim.log_url("name")`.
    """

    def __init__(
        self,
        scenario: Scenario | Path,
        *,
        seed: int | None = None,
        cache_dir: Path | None = None,
        port: int | None = None,
        present_sth: str | None = None,
    ) -> None:
        loaded = load_scenario(scenario) if isinstance(scenario, Path) else scenario
        self.world = World.load(loaded, seed=seed, cache_dir=cache_dir)
        self.simulator = Simulator(self.world, present_sth=present_sth)
        handler = type("SimHandler", (_Handler,), {"simulator": self.simulator})
        self._server = ThreadingHTTPServer((loaded.host, loaded.port if port is None else port), handler)
        self._server.daemon_threads = True
        self.simulator.base_url = f"http://{loaded.host}:{self._server.server_port}"
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self.simulator.base_url

    def log_url(self, name: str) -> str:
        return self.simulator.log_url(name)

    def url_rewrite(self) -> dict[str, str]:
        return self.simulator.url_rewrite()

    def log_list(self) -> dict[str, Any]:
        return self.simulator.log_list()

    def write_log_list(self, path: Path) -> Path:
        return self.simulator.write_log_list(path)

    def set_faults(self, log_name: str, faults: list[Fault]) -> None:
        self.simulator.set_faults(log_name, faults)

    def request_count(self, log_name: str, endpoint: str) -> int:
        return self.simulator.request_count(log_name, endpoint)

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def __enter__(self) -> SimulatorRunning:
        self._thread = threading.Thread(target=self._server.serve_forever, name="ctwatch-sim", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
