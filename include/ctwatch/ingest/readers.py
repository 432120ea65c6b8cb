"""One reading interface over the RFC 6962 and static-ct-api clients, as ingestion needs it.

A reader returns verified tree heads as `TreeHead` (what the warehouse stores), yields verified
entry batches for a range, resolves chain fingerprints (static-ct `issuer/` bundles) and reads
single entry timestamps for bisection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Protocol

from ctwatch.ct.merkle import ProofError
from ctwatch.ct.signatures import SignatureError, SignedTreeHead, verify_checkpoint
from ctwatch.ingest.model import CHECKPOINT, RFC6962_STH, LogEndpoint, TreeHead
from ctwatch.sources.http import FetchError, HttpClient, Politeness
from ctwatch.sources.loglist import LogApi
from ctwatch.sources.rfc6962 import EntryBatch, Rfc6962Client
from ctwatch.sources.static_ct import TILE_WIDTH, StaticCtClient, VerifiedCheckpoint

# What reading a log raises when the log cannot be read or does not prove what it serves: the log is
# skipped (or its range left uncovered) for this run, with the evidence kept.
READ_FAILURES = (FetchError, SignatureError, ProofError, ValueError, LookupError)


class LogReader(Protocol):
    """What ingestion asks of a log."""

    # static-ct chains hold SHA-256 fingerprints of issuers served under `issuer/`: this resolves
    # one to its DER. None for RFC 6962, whose chains are DER already.
    resolve_fingerprint: Callable[[bytes], bytes] | None

    def tree_head(self) -> TreeHead: ...

    def prove_extends(self, old: TreeHead, new: TreeHead) -> None: ...

    def verified_batches(self, start: int, end_exclusive: int, head: TreeHead) -> Iterator[EntryBatch]: ...

    def timestamp_ms_at(self, index: int, head: TreeHead) -> int: ...

    def close(self) -> None: ...


def _sth(head: TreeHead) -> SignedTreeHead:
    return SignedTreeHead(head.tree_size, head.timestamp_ms, head.root_hash, head.signature)


class Rfc6962Reader:
    def __init__(self, log: LogEndpoint, http: HttpClient) -> None:
        self._client = Rfc6962Client(log.url, log.key_der, http=http)
        self._http = http
        self.resolve_fingerprint: Callable[[bytes], bytes] | None = None

    def tree_head(self) -> TreeHead:
        sth = self._client.get_sth()
        return TreeHead(sth.tree_size, sth.timestamp_ms, sth.root_hash, sth.signature, RFC6962_STH)

    def prove_extends(self, old: TreeHead, new: TreeHead) -> None:
        """ProofError unless `new` extends `old` (both verified heads of this log)."""
        self._client.prove_consistency(_sth(old), _sth(new))

    def verified_batches(self, start: int, end_exclusive: int, head: TreeHead) -> Iterator[EntryBatch]:
        return self._client.verified_entries(start, end_exclusive, _sth(head))

    def timestamp_ms_at(self, index: int, head: TreeHead) -> int:
        for batch in self._client.get_entries(index, index + 1):
            for entry in batch.entries:
                return entry.timestamp_ms
        raise LookupError(f"entry {index} could not be decoded")

    def close(self) -> None:
        self._http.close()


def checkpoint_origin(log: LogEndpoint) -> str:
    """A static-ct checkpoint's origin: the submission prefix without scheme and trailing slash."""
    prefix = log.submission_url or log.url
    return prefix.split("://", 1)[-1].rstrip("/")


class StaticCtReader:
    def __init__(self, log: LogEndpoint, http: HttpClient) -> None:
        self._origin = checkpoint_origin(log)
        self._key_der = log.key_der
        self._client = StaticCtClient(log.url, self._origin, log.key_der, http=http)
        self._http = http
        self._tile_timestamps: dict[int, list[int]] = {}
        self.resolve_fingerprint: Callable[[bytes], bytes] | None = self._client.issuer

    def _checkpoint(self, head: TreeHead) -> VerifiedCheckpoint:
        # The note was verified when planned; verifying it again costs one signature check and
        # rebuilds the client's type from the stored bytes.
        checkpoint, timestamp_ms = verify_checkpoint(head.signature, self._origin, self._key_der)
        return VerifiedCheckpoint(checkpoint, timestamp_ms, head.signature)

    def tree_head(self) -> TreeHead:
        verified = self._client.checkpoint()
        return TreeHead(
            verified.tree_size, verified.timestamp_ms, verified.root_hash, verified.note, CHECKPOINT
        )

    def prove_extends(self, old: TreeHead, new: TreeHead) -> None:
        """ProofError unless `new` extends `old` (both verified heads of this log), from hash tiles."""
        self._client.prove_consistency((old.tree_size, old.root_hash), self._checkpoint(new))

    def verified_batches(self, start: int, end_exclusive: int, head: TreeHead) -> Iterator[EntryBatch]:
        return self._client.entries(start, end_exclusive, self._checkpoint(head))

    def timestamp_ms_at(self, index: int, head: TreeHead) -> int:
        tile = index // TILE_WIDTH
        if tile not in self._tile_timestamps:
            width = min(TILE_WIDTH, head.tree_size - tile * TILE_WIDTH)
            self._tile_timestamps[tile] = [e.timestamp_ms for e in self._client.data_tile(tile, width)]
        return self._tile_timestamps[tile][index - tile * TILE_WIDTH]

    def close(self) -> None:
        self._http.close()


def open_reader(log: LogEndpoint, politeness: Politeness, *, as_of: datetime | None = None) -> LogReader:
    """A reader for `log` with its own HTTP session; `as_of` asks a simulator for its past tree."""
    http = HttpClient(politeness, as_of=as_of)
    if log.api == LogApi.STATIC_CT:
        return StaticCtReader(log, http)
    return Rfc6962Reader(log, http)
