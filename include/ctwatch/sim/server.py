"""The simulator's HTTP server for a generated world, on 127.0.0.1, one port with path prefixes: it
routes each request to the log endpoints or a revocation service (ctwatch.sim.services), counts
it and applies the faults that fire on it.

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

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ctwatch.sim.faults import SERVICE_ENDPOINTS, Fault, FaultCounters, FaultKind
from ctwatch.sim.http_messages import AS_OF_HEADER, HttpError, Response, json_response, parse_as_of
from ctwatch.sim.log_files import SimLog
from ctwatch.sim.scenario import LogKind, Scenario, load_scenario
from ctwatch.sim.services.bugzilla import bugzilla_bugs, bugzilla_comments
from ctwatch.sim.services.ccadb import ccadb_all_records, mozilla_revoked_intermediates
from ctwatch.sim.services.crl import CrlService
from ctwatch.sim.services.crlset import crlset
from ctwatch.sim.services.crtsh import crtsh_answer
from ctwatch.sim.services.ct_logs import LogEndpoints, log_list
from ctwatch.sim.services.ocsp import ocsp_answer
from ctwatch.sim.services.onecrl import onecrl_records
from ctwatch.sim.world import World

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
_ENDLESS_PIECE_BYTES = 65536


class Simulator:
    """Request handling for a world (independent of the socket server, so it can be unit-tested)."""

    def __init__(self, world: World, *, present_sth: str | None = None) -> None:
        self.world = world
        self.base_url = ""
        self._lock = threading.Lock()
        self._faults = {name: FaultCounters(log.spec.faults) for name, log in world.logs.items()}
        service_faults = world.revocations.service_faults
        for service in SERVICE_ENDPOINTS:
            self._faults[service] = FaultCounters(service_faults.get(service, ()))
        self._requests: dict[tuple[str, str], int] = {}
        self._log_endpoints = LogEndpoints(world.ca_certs, present_sth=present_sth)
        self._crls = CrlService(world.revocations)

    # -- configuration and observation (tests) --

    def set_faults(self, log_name: str, faults: list[Fault]) -> None:
        """Replace the faults of a log, or of a revocation service ("crl", "ocsp", "ccadb", ...)."""
        with self._lock:
            self._faults[log_name] = FaultCounters(tuple(faults))

    def request_count(self, log_name: str, endpoint: str) -> int:
        """Requests so far to a log's endpoint, or to a service (`request_count("crl", "crl")`)."""
        with self._lock:
            return self._requests.get((log_name, endpoint), 0)

    def log_url(self, name: str) -> str:
        return f"{self.base_url}/logs/{name}/"

    def origin(self, log: SimLog) -> str:
        """Checkpoint origin: the submission prefix without scheme and trailing slash."""
        return self.log_url(log.spec.name).split("://", 1)[1].rstrip("/")

    def url_rewrite(self) -> dict[str, str]:
        """Stable URL prefix -> simulator URL prefix, for every hostname the certificates name."""
        return {f"http://{host}/": f"{self.base_url}/hosts/{host}/" for host in self.world.hostnames()}

    def source_urls(self) -> dict[str, str]:
        """The revocation services' URLs, keyed like ctwatch.toml's `[sources.<name>]` tables."""
        return {
            "ccadb": f"{self.base_url}/ccadb/AllCertificateRecordsCSVFormatV5",
            "mozilla_revoked": f"{self.base_url}/mozilla/PublicIntermediateCertsRevokedWithPEMCSV",
            "onecrl": f"{self.base_url}/onecrl/v1/buckets/security-state/collections/onecrl/records",
            "crlset": f"{self.base_url}/crlset/crl-set",
            "crtsh": f"{self.base_url}/crtsh/",
            "bugzilla": f"{self.base_url}/bugzilla/rest/",
        }

    def config_toml(self, log_list: str) -> str:
        """A ctwatch.toml pointing every source at this simulator: simulated stamping, its services,
        the certificates' CRL and OCSP hostnames rewritten to it, `log_list` as the CT log list."""
        lines = [
            "# ctwatch.toml for the simulator at " + self.base_url,
            "[stamping]",
            'mode = "simulated"  # each request carries the run\'s as-of; answers are stamped with it',
            "",
            "[ct]",
            f"log_list = {_toml_string(log_list)}",
            'new_logs_start = "origin"  # a simulated world\'s whole history',
            "requests_per_second = 500.0  # a simulator on loopback, not a public log",
            "",
            "[sources]",
            "requests_per_second = 1000.0",
            "timeout_s = 30.0",
        ]
        for name, url in self.source_urls().items():
            lines += ["", f"[sources.{name}]", f"url = {_toml_string(url)}"]
            if name == "crtsh":  # where this crt.sh stops answering, so full pages get split
                lines.append(f"result_limit = {self.world.revocations.settings.crtsh_result_limit}")
        lines += ["", "[url_rewrite]"]
        lines += [
            f"{_toml_string(prefix)} = {_toml_string(target)}"
            for prefix, target in sorted(self.url_rewrite().items())
        ]
        return "\n".join(lines) + "\n"

    def log_list(self) -> dict[str, Any]:
        """A Google v3 log list of the simulated logs (`tiled_logs` for static-ct ones)."""
        return log_list(self.world.logs, self.world.scenario.start, self.log_url)

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
            return json_response(self.log_list())
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
                log.spec.name,
                rest[2],
                lambda faults: self._log_endpoints.rfc6962(log, rest[2], query, as_of_ms, faults),
            )
        if log.spec.kind is LogKind.STATIC:
            endpoint = LogEndpoints.static_endpoint(rest)
            origin = self.origin(log)
            gzip_ok = "gzip" in headers.get("accept-encoding", "")
            return self._with_faults(
                log.spec.name,
                endpoint,
                lambda faults: self._log_endpoints.static(
                    log, rest, as_of_ms, faults, origin=origin, gzip_ok=gzip_ok
                ),
            )
        raise HttpError(404, "not found")

    def _with_faults(
        self, name: str, endpoint: str, answer: Callable[[dict[FaultKind, Fault]], Response]
    ) -> Response:
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
        if FaultKind.ENDLESS_BODY in kinds:
            rate = kinds[FaultKind.ENDLESS_BODY].bytes_per_second
            return Response(200, b"[", "application/json", endless_bytes_per_second=rate)
        response = answer(kinds)
        if FaultKind.TRUNCATED_JSON in kinds:
            response = Response(
                response.status,
                response.body[: len(response.body) // 2],
                response.content_type,
                response.headers,
            )
        return response

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
            return self._with_faults(
                "crl", "crl", lambda _: self._crls.answer(hostname, rest[0], headers, moment)
            )
        if hostname.startswith("ocsp.") and hostname in self.world.hostnames():
            moment = self._moment(headers)
            encoded = unquote(rest_path[0]) if rest_path else ""
            return self._with_faults(
                "ocsp", "ocsp", lambda _: ocsp_answer(self.world.revocations, encoded, body, moment)
            )
        raise HttpError(404, f"nothing simulated at http://{hostname}/{'/'.join(rest)}")

    # -- revocation services --

    def _moment(self, headers: dict[str, str]) -> datetime:
        """The request's as-of time; without the header, the scenario's present (its end)."""
        as_of_ms = parse_as_of(headers.get(AS_OF_HEADER.lower()))
        if as_of_ms is None:
            return self.world.scenario.end
        return datetime.fromtimestamp(as_of_ms / 1000, UTC)

    def _service(self, parts: list[str], query: dict[str, list[str]], moment: datetime) -> Response:
        revocations = self.world.revocations
        if parts == ["ccadb", "AllCertificateRecordsCSVFormatV5"]:
            return Response(200, ccadb_all_records(revocations, moment), "text/csv; charset=UTF-8")
        if parts == ["mozilla", "PublicIntermediateCertsRevokedWithPEMCSV"]:
            body = mozilla_revoked_intermediates(revocations, moment)
            return Response(200, body, "text/csv; charset=UTF-8")
        if parts == ["onecrl", "v1", "buckets", "security-state", "collections", "onecrl", "records"]:
            return json_response(onecrl_records(revocations, moment))
        if parts == ["crlset", "crl-set"]:
            return Response(200, crlset(revocations, moment), "application/octet-stream")
        if parts == ["crtsh"]:
            return crtsh_answer(revocations, query, moment)
        if parts == ["bugzilla", "rest", "bug"]:
            return json_response(bugzilla_bugs(revocations, query, moment))
        if len(parts) == 5 and parts[:3] == ["bugzilla", "rest", "bug"] and parts[4] == "comment":
            answer = bugzilla_comments(
                revocations, int(parts[3]) if parts[3].isdigit() else -1, query, moment
            )
            if answer is None:
                raise HttpError(404, f"Bug #{parts[3]} does not exist.")
            return json_response(answer)
        raise HttpError(404, "not found")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body would wait ~40 ms for the
    # client's delayed ACK on every keep-alive response.
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
        if response.endless_bytes_per_second is not None:
            self._send_endless(response, response.endless_bytes_per_second)
            return
        if response.status != 304:
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if response.status != 304:
            self.wfile.write(response.body)

    def _send_endless(self, response: Response, bytes_per_second: int) -> None:
        """Headers without a length, then `response.body` and filler until the client hangs up."""
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        piece = b"0," * (_ENDLESS_PIECE_BYTES // 2) if bytes_per_second == 0 else b"0"
        try:
            self.wfile.write(response.body)
            while True:
                self.wfile.write(piece)
                if bytes_per_second:
                    self.wfile.flush()
                    time.sleep(1 / bytes_per_second)
        except OSError:  # the client hung up: the point of the fault
            return

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

    def config_toml(self, log_list: str) -> str:
        return self.simulator.config_toml(log_list)

    def log_list(self) -> dict[str, Any]:
        return self.simulator.log_list()

    def write_log_list(self, path: Path) -> Path:
        return self.simulator.write_log_list(path)

    def set_faults(self, log_name: str, faults: list[Fault]) -> None:
        self.simulator.set_faults(log_name, faults)

    def request_count(self, log_name: str, endpoint: str) -> int:
        return self.simulator.request_count(log_name, endpoint)

    def __enter__(self) -> SimulatorRunning:
        self._thread = threading.Thread(target=self._server.serve_forever, name="ctwatch-sim", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()


def _toml_string(value: str) -> str:
    # A JSON string of printable ASCII is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=True)
