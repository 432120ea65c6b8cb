"""HTTP servers for a generated world, on 127.0.0.1, one port with path prefixes.

Layout (BASE = http://127.0.0.1:PORT):

- BASE/log_list.json                      Google v3 log list of the simulated logs
- BASE/logs/<name>/ct/v1/<endpoint>       RFC 6962 logs (get-sth, get-sth-consistency, get-proof-by-hash,
                                          get-entries, get-roots)
- BASE/logs/<name>/checkpoint, /tile/<L>/<N>[.p/<W>], /tile/data/<N>[.p/<W>], /issuer/<sha256 hex>
                                          static-ct-api logs (monitoring prefix = submission prefix)
- BASE/hosts/<hostname>/<path>            the stable hostnames certificates name, reached through
                                          `url_rewrite()`: aia.* serves CA certificates, crl.* the CRLs
                                          (`<ca-id>.crl`, partitions `<ca-id>-p<N>.crl`; ETag and
                                          Last-Modified with conditional GET), ocsp.* an RFC 6960
                                          responder (POST, or GET with the base64 request in the path)
- BASE/ccadb/AllCertificateRecordsCSVFormatV5, BASE/mozilla/PublicIntermediateCertsRevokedWithPEMCSV
- BASE/onecrl/v1/buckets/security-state/collections/onecrl/records   Mozilla remote-settings records
- BASE/crlset/crl-set                     Chrome's CRLSet binary
- BASE/crtsh/?identity=...&output=json, BASE/crtsh/?d=<id or sha256>   crt.sh
- BASE/bugzilla/rest/bug?..., BASE/bugzilla/rest/bug/<id>/comment      Bugzilla REST

The as-of time travels with each request in the `X-Ctwatch-As-Of` header (RFC 3339): the log answers
with its tree as of then, the revocation services with their state then (without the header: as of
the scenario's end, its "present"). Without the header a log serves its whole generated tree; the tree head
timestamp is then the last entry's integration time, or the real current time when the log's
`present_sth` is "now" (monitors such as certspotter distrust heads far in the past).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ctwatch.ct.merkle import MerkleTree, leaf_hash
from ctwatch.ct.signatures import sign_checkpoint, sign_tree_head
from ctwatch.sim import services
from ctwatch.sim.revocation_der import crl_der, ocsp_response
from ctwatch.sim.scenario import SERVICE_ENDPOINTS, Fault, FaultKind, LogKind, Scenario, load_scenario
from ctwatch.sim.world import SimLog, World

AS_OF_HEADER = "X-Ctwatch-As-Of"
_FORK_LEAF = leaf_hash(b"ctwatch-sim: forked tree")
_TILE_WIDTH = 256
_log = logging.getLogger(__name__)
# First path element -> the service name its faults and request counters use.
_SERVICE_PREFIXES = {
    "ccadb": "ccadb",
    "mozilla": "ccadb",
    "onecrl": "onecrl",
    "crlset": "crlset",
    "crtsh": "crtsh",
    "bugzilla": "bugzilla",
}
_MAX_POST_BYTES = 65536  # an OCSP request is a few hundred bytes
_CRTSH_IDENTITY_KEYS = ("identity", "q", "CN", "commonname", "dNSName", "domain", "O", "organizationname")


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
        service_faults = world.revocations.service_faults
        for service in SERVICE_ENDPOINTS:
            self._faults[service] = _FaultState(service_faults.get(service, ()))
        self._requests: dict[tuple[str, str], int] = {}
        self._forks: dict[tuple[str, int], MerkleTree] = {}
        self._crls: dict[tuple[str, int, int | None], bytes] = {}

    # -- configuration and observation (tests) --

    def set_faults(self, log_name: str, faults: list[Fault]) -> None:
        """Replace the faults of a log, or of a revocation service ("crl", "ocsp", "ccadb", ...)."""
        with self._lock:
            self._faults[log_name] = _FaultState(tuple(faults))

    def request_count(self, log_name: str, endpoint: str) -> int:
        """Requests so far to a log's endpoint, or to a service (`request_count("crl", "crl")`)."""
        with self._lock:
            return self._requests.get((log_name, endpoint), 0)

    def log_url(self, name: str) -> str:
        return f"{self.base_url}/logs/{name}/"

    def url_rewrite(self) -> dict[str, str]:
        """Stable URL prefix -> simulator URL prefix, for every hostname the certificates name."""
        return {f"http://{host}/": f"{self.base_url}/hosts/{host}/" for host in self.world.hostnames()}

    def source_urls(self) -> dict[str, str]:
        """The revocation services' URLs, keyed like ctwatch.revocation.config's SourceLocations."""
        return {
            "ccadb_all_records_url": f"{self.base_url}/ccadb/AllCertificateRecordsCSVFormatV5",
            "mozilla_revoked_url": f"{self.base_url}/mozilla/PublicIntermediateCertsRevokedWithPEMCSV",
            "onecrl_url": f"{self.base_url}/onecrl/v1/buckets/security-state/collections/onecrl/records",
            "crlset_url": f"{self.base_url}/crlset/crl-set",
            "crtsh_url": f"{self.base_url}/crtsh/",
            "bugzilla_url": f"{self.base_url}/bugzilla/rest/",
        }

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

    def handle(self, path: str, headers: dict[str, str], body: bytes | None = None) -> Response:
        """Answer one GET (or POST with `body`); never raises (errors become HTTP statuses)."""
        try:
            return self._route(path, headers, body)
        except HttpError as exc:
            extra = tuple(exc.headers.items())
            body = json.dumps({"error": exc.message}).encode()
            return Response(exc.status, body, "application/json", extra)
        except Exception:  # a simulator bug must show as a 500, not kill the server thread
            _log.exception("simulator failed on %s", path)
            return Response(500, b'{"error": "simulator internal error"}', "application/json")

    def _route(self, path: str, headers: dict[str, str], body: bytes | None) -> Response:
        url = urlsplit(path)
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        if parts == ["log_list.json"]:
            return _json(self.log_list())
        if len(parts) >= 2 and parts[0] == "hosts":
            return self._host(parts[1], url.path.split("/", 3)[3:], headers, body)
        if parts and parts[0] in _SERVICE_PREFIXES:
            moment = self._moment(headers)
            service = _SERVICE_PREFIXES[parts[0]]
            return self._with_faults(service, service, lambda _: self._service(parts, query, moment))
        if len(parts) < 3 or parts[0] != "logs" or parts[1] not in self.world.logs:
            raise HttpError(404, "not found")
        log = self.world.logs[parts[1]]
        rest = parts[2:]
        as_of_ms = parse_as_of(headers.get(AS_OF_HEADER.lower()))
        if log.spec.kind is LogKind.RFC6962 and rest[:2] == ["ct", "v1"] and len(rest) == 3:
            return self._with_faults(
                log.spec.name, rest[2], lambda faults: self._rfc6962(log, rest[2], query, as_of_ms, faults)
            )
        if log.spec.kind is LogKind.STATIC:
            endpoint = self._static_endpoint(rest)
            gzip_ok = "gzip" in headers.get("accept-encoding", "")
            return self._with_faults(
                log.spec.name,
                endpoint,
                lambda faults: self._static(log, rest, as_of_ms, faults, gzip_ok=gzip_ok),
            )
        raise HttpError(404, "not found")

    def _with_faults(self, name: str, endpoint: str, answer: Any) -> Response:
        """Count the request to `name` (a log or a service) and apply the faults that fire on it."""
        with self._lock:
            self._requests[(name, endpoint)] = self._requests.get((name, endpoint), 0) + 1
            fired = self._faults[name].fired(endpoint)
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
                response.status,
                response.body[: len(response.body) // 2],
                response.content_type,
                response.headers,
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

    def _host(
        self, hostname: str, rest_path: list[str], headers: dict[str, str], body: bytes | None
    ) -> Response:
        rest = [p for p in (rest_path[0] if rest_path else "").split("/") if p]
        if hostname.startswith("aia.") and len(rest) == 1 and rest[0].endswith(".der"):
            cert = self.world.ca_certs.get(rest[0][: -len(".der")])
            if cert is not None:
                return Response(200, cert.der, "application/pkix-cert")
        if hostname.startswith("crl.") and len(rest) == 1 and rest[0].endswith(".crl"):
            moment = self._moment(headers)
            return self._with_faults("crl", "crl", lambda _: self._crl(hostname, rest[0], headers, moment))
        if hostname.startswith("ocsp.") and hostname in self.world.hostnames():
            moment = self._moment(headers)
            encoded = unquote(rest_path[0]) if rest_path else ""
            return self._with_faults("ocsp", "ocsp", lambda _: self._ocsp(encoded, body, moment))
        raise HttpError(404, f"nothing simulated at http://{hostname}/{'/'.join(rest)}")

    # -- revocation services --

    def _moment(self, headers: dict[str, str]) -> datetime:
        """The request's as-of time; without the header, the scenario's present (its end)."""
        as_of_ms = parse_as_of(headers.get(AS_OF_HEADER.lower()))
        if as_of_ms is None:
            return self.world.scenario.end
        return datetime.fromtimestamp(as_of_ms / 1000, UTC)

    def _crl(self, hostname: str, filename: str, headers: dict[str, str], moment: datetime) -> Response:
        revocations = self.world.revocations
        name = filename[: -len(".crl")]
        match = re.fullmatch(r"(.+)-p([0-9]+)", name)
        scope, partition = (match.group(1), int(match.group(2))) if match else (name, None)
        parts = revocations.partitions.get(scope)
        if (
            scope not in revocations.crl_versions
            or revocations.crl_url(scope, partition) != f"http://{hostname}/{filename}"
            or (partition is not None and (parts is None or partition >= parts.count))
        ):
            raise HttpError(404, f"no CRL at http://{hostname}/{filename}")
        version = revocations.crl_version_as_of(scope, moment)
        if version is None:
            raise HttpError(404, "no CRL published yet at this date")
        der = self._crl_der(scope, version, partition)
        this_update = revocations.crl_versions[scope][version]
        etag = f'"{hashlib.sha256(der).hexdigest()[:32]}"'
        cache = (("ETag", etag), ("Last-Modified", format_datetime(this_update, usegmt=True)))
        if headers.get("if-none-match") == etag or (
            "if-none-match" not in headers
            and _not_modified_since(headers.get("if-modified-since"), this_update)
        ):
            return Response(304, b"", "application/pkix-crl", cache)
        return Response(200, der, "application/pkix-crl", cache)

    def _crl_der(self, scope: str, version: int, partition: int | None) -> bytes:
        key = (scope, version, partition)
        with self._lock:
            cached = self._crls.get(key)
        if cached is None:
            cached = crl_der(self.world.revocations, scope, version, partition)
            with self._lock:
                self._crls[key] = cached
        return cached

    def _ocsp(self, encoded: str, body: bytes | None, moment: datetime) -> Response:
        if body is None:
            try:
                body = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise HttpError(400, "the GET path is not a base64 OCSP request") from exc
        answer = ocsp_response(self.world.revocations, body, moment)
        return Response(200, answer.der, "application/ocsp-response")

    def _service(self, parts: list[str], query: dict[str, list[str]], moment: datetime) -> Response:
        revocations = self.world.revocations
        if parts == ["ccadb", "AllCertificateRecordsCSVFormatV5"]:
            return Response(200, services.ccadb_all_records(revocations, moment), "text/csv; charset=UTF-8")
        if parts == ["mozilla", "PublicIntermediateCertsRevokedWithPEMCSV"]:
            body = services.mozilla_revoked_intermediates(revocations, moment)
            return Response(200, body, "text/csv; charset=UTF-8")
        if parts == ["onecrl", "v1", "buckets", "security-state", "collections", "onecrl", "records"]:
            return _json(services.onecrl_records(revocations, moment))
        if parts == ["crlset", "crl-set"]:
            return Response(200, services.crlset(revocations, moment), "application/octet-stream")
        if parts == ["crtsh"]:
            return self._crtsh(query, moment)
        if parts == ["bugzilla", "rest", "bug"]:
            return _json(services.bugzilla_bugs(revocations, query, moment))
        if len(parts) == 5 and parts[:3] == ["bugzilla", "rest", "bug"] and parts[4] == "comment":
            answer = services.bugzilla_comments(
                revocations, int(parts[3]) if parts[3].isdigit() else -1, query, moment
            )
            if answer is None:
                raise HttpError(404, f"Bug #{parts[3]} does not exist.")
            return _json(answer)
        raise HttpError(404, "not found")

    def _crtsh(self, query: dict[str, list[str]], moment: datetime) -> Response:
        revocations = self.world.revocations
        if "d" in query:
            pem = services.crtsh_download(revocations, query["d"][0], moment)
            name = query["d"][0]
            disposition = (("Content-Disposition", f'attachment; filename="{name}.crt"'),)
            return Response(200, pem or b"", "application/pkix-cert", disposition)
        if query.get("output", [""])[0] != "json":
            raise HttpError(400, "the simulator serves crt.sh's output=json and ?d= only")
        if any(key in query for key in ("id", "c", "sha1", "sha256", "caid")):
            return Response(400, b"Unsupported output type", "text/plain; charset=UTF-8")
        for key in _CRTSH_IDENTITY_KEYS:
            if key in query:
                return _json(services.crtsh_search(revocations, query[key][0], query, moment))
        raise HttpError(400, "no search parameter")


def _not_modified_since(value: str | None, modified: datetime) -> bool:
    if not value:
        return False
    try:
        since = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and modified.replace(microsecond=0) <= since


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
    # Headers and body go out in two writes: with Nagle on, the body waited ~40 ms for the
    # client's delayed ACK on every keep-alive response (measured: 50 OCSP queries 2.8 s -> 0.8 s).
    disable_nagle_algorithm = True
    simulator: Simulator

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._send(self.simulator.handle(self.path, headers))

    def do_POST(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_POST_BYTES:
            self._send(Response(413, b'{"error": "bad or too large Content-Length"}', "application/json"))
            return
        self._send(self.simulator.handle(self.path, headers, self.rfile.read(length)))

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if response.status != 304:
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if response.status != 304:
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

    def source_urls(self) -> dict[str, str]:
        return self.simulator.source_urls()

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
