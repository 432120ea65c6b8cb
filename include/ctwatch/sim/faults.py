"""Injected faults: the failures a scenario or a test switches on for a log or a revocation service,
the endpoints each kind applies to, and the request counters that decide when one fires."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    RATE_LIMIT = "rate_limit"  # 429 with Retry-After
    SERVER_ERROR = "server_error"  # a 5xx status
    SHORT_BATCH = "short_batch"  # get-entries returns at most `entries` entries
    TRUNCATED_JSON = "truncated_json"  # 200 with the body cut in half
    CORRUPT_DER = "corrupt_der"  # the first certificate of the answer is not DER
    BAD_STH_SIGNATURE = "bad_sth_signature"  # tree head / checkpoint signature does not verify
    INCONSISTENT_TREE = "inconsistent_tree"  # a validly signed head of a forked tree, and its proofs
    # 200 whose body never ends (no Content-Length), until the client hangs up; `bytes_per_second`
    # > 0 trickles it
    ENDLESS_BODY = "endless_body"


# Endpoint names used by fault filters and request counters.
RFC6962_ENDPOINTS = ("get-sth", "get-sth-consistency", "get-proof-by-hash", "get-entries", "get-roots")
STATIC_ENDPOINTS = ("checkpoint", "tile", "data-tile", "issuer")
# Revocation services (`[[service_faults]]`): each is one endpoint named like the service.
SERVICE_ENDPOINTS = ("crl", "ocsp", "ccadb", "onecrl", "crlset", "crtsh", "bugzilla")
FAULT_ENDPOINTS: dict[FaultKind, frozenset[str]] = {
    FaultKind.RATE_LIMIT: frozenset(RFC6962_ENDPOINTS + STATIC_ENDPOINTS + SERVICE_ENDPOINTS),
    FaultKind.SERVER_ERROR: frozenset(RFC6962_ENDPOINTS + STATIC_ENDPOINTS + SERVICE_ENDPOINTS),
    FaultKind.TRUNCATED_JSON: frozenset(RFC6962_ENDPOINTS + SERVICE_ENDPOINTS),  # any body cut in half
    FaultKind.ENDLESS_BODY: frozenset(RFC6962_ENDPOINTS + STATIC_ENDPOINTS + SERVICE_ENDPOINTS),
    FaultKind.SHORT_BATCH: frozenset({"get-entries"}),
    FaultKind.CORRUPT_DER: frozenset({"get-entries", "data-tile"}),
    FaultKind.BAD_STH_SIGNATURE: frozenset({"get-sth", "checkpoint"}),
    FaultKind.INCONSISTENT_TREE: frozenset({"get-sth", "checkpoint", "get-sth-consistency"}),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """A deterministic fault: it fires on the first `first` matching requests and on every
    `every`-th one (counted per fault from 1), so a test knows exactly which request fails."""

    kind: FaultKind
    first: int = 0
    every: int = 0
    endpoints: frozenset[str] = frozenset()  # empty: every endpoint the kind applies to
    retry_after_s: int = 1
    status: int = 503
    entries: int = 1  # short_batch: entries returned at most
    bytes_per_second: int = 0  # endless_body: 0 as fast as the client reads, else a trickle

    def applies_to(self, endpoint: str) -> bool:
        if endpoint not in FAULT_ENDPOINTS[self.kind]:
            return False
        return not self.endpoints or endpoint in self.endpoints

    def fires(self, count: int) -> bool:
        """Whether the `count`-th matching request (1-based) is hit."""
        return count <= self.first or (self.every > 0 and count % self.every == 0)


class FaultCounters:
    """The faults of one log or service with their request counters (each counted from 1)."""

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
