"""Reduce the verified entries of one range to what the warehouse keeps (the per-entry hot loop).

Per entry: find the issuer key without any X.509 parse (a precert's `issuer_key_hash`; an x509
entry's first chain certificate, analysed once per distinct certificate), count it per issuer and
UTC day, and for a watched issuer keep the leaf row (serial and validity by a small DER walk).
Distinct chain certificates are analysed once, when first met: a CA certificate with an error or
warning finding makes its key watched from that entry on, so a newly seen OCSP-signing CA's own
leaves are kept in the very range that reveals it. Each chain certificate also keeps the entry with
the earliest CT timestamp that carried it (its first CT time), tracked per run of entries sharing a
chain: one comparison per entry.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from ctwatch import rules
from ctwatch.ingest.derwalk import DerWalkError, leaf_fields
from ctwatch.ingest.model import StagedCert, StagedCount, StagedError, StagedLeaves, StagedRange, TreeHead
from ctwatch.sources.rfc6962 import EntryBatch
from ctwatch.x509 import ParsedCert, analyse_der

_MS_PER_DAY = 86_400_000
_WATCHING_SEVERITIES = frozenset({rules.Severity.ERROR, rules.Severity.WARNING})
_TAIL = 32  # the last bytes of a certificate are its signature: a near-unique lookup key


@dataclass(slots=True)
class _ChainCert:
    der: bytes
    spki: bytes | None  # SHA-256 of the SubjectPublicKeyInfo; None when the DER cannot be analysed
    first_index: int
    earliest_index: int  # the entry with the earliest CT timestamp carrying it in this range
    earliest_timestamp_ms: int

    def seen(self, index: int, timestamp_ms: int) -> None:
        # Called in index order, so an equal timestamp never replaces: the lower index stays.
        if timestamp_ms < self.earliest_timestamp_ms:
            self.earliest_index, self.earliest_timestamp_ms = index, timestamp_ms


class RangeReducer:
    """Fold the batches of one range (`add`, in index order) into a `StagedRange` (`finish`)."""

    def __init__(
        self,
        log_id: bytes,
        start: int,
        end_exclusive: int,
        tree_head: TreeHead,
        *,
        watched_spki_sha256: Collection[str],
        watched_der_sha256: Collection[str],
        resolve_fingerprint: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self._log_id = log_id
        self._start = start
        self._end_exclusive = end_exclusive
        self._tree_head = tree_head
        self._watched = {bytes.fromhex(value) for value in watched_spki_sha256}
        self._watched_der = frozenset(watched_der_sha256)
        self._resolve_fingerprint = resolve_fingerprint
        # RFC 6962 chains: last 32 bytes -> certificates with that tail; static-ct: fingerprint -> cert.
        self._by_tail: dict[bytes, list[_ChainCert]] = {}
        self._by_fingerprint: dict[bytes, _ChainCert] = {}
        self._as_of = datetime.fromtimestamp(tree_head.timestamp_ms / 1000, UTC)
        self._chain_certs: list[_ChainCert] = []  # in order of first sight
        self.leaves = StagedLeaves()
        self.counts: dict[tuple[bytes, int, bool], int] = {}
        self.errors: list[StagedError] = []
        self.next_index = start

    def _register(self, der: bytes, index: int, timestamp_ms: int) -> _ChainCert:
        """Analyse a chain certificate met for the first time in this range."""
        parsed = analyse_der(der)
        spki: bytes | None = None
        if isinstance(parsed, ParsedCert) and parsed.spki_sha256 is not None:
            spki = bytes.fromhex(parsed.spki_sha256)
            if parsed.der_sha256 in self._watched_der or any(
                finding.severity in _WATCHING_SEVERITIES
                for finding in rules.evaluate(parsed, as_of=self._as_of)
            ):
                self._watched.add(spki)
        # else: no certificate; the load records why
        found = _ChainCert(der, spki, index, index, timestamp_ms)
        self._chain_certs.append(found)
        return found

    def _chain_cert(self, item: bytes, index: int, timestamp_ms: int) -> _ChainCert:
        if self._resolve_fingerprint is not None:
            found = self._by_fingerprint.get(item)
            if found is None:
                der = self._resolve_fingerprint(item)
                found = self._by_fingerprint[item] = self._register(der, index, timestamp_ms)
            return found
        candidates = self._by_tail.setdefault(item[-_TAIL:], [])
        for candidate in candidates:
            if candidate.der == item:
                return candidate
        found = self._register(item, index, timestamp_ms)
        candidates.append(found)
        return found

    def add(self, batch: EntryBatch) -> None:
        """Fold one verified batch; batches must arrive in index order without gaps."""
        if batch.start != self.next_index:
            raise ValueError(f"batch starts at {batch.start}, expected {self.next_index}")
        self.next_index = batch.end_exclusive
        counts = self.counts
        watched = self._watched
        previous_chain: tuple[bytes, ...] | None = None
        chain_issuer: bytes | None = None
        # The current run of entries sharing one chain, and its earliest entry.
        items: list[_ChainCert] = []
        run_index = run_ms = 0
        for entry in batch.entries:
            chain = entry.chain
            if chain != previous_chain:
                for item in items:
                    item.seen(run_index, run_ms)
                items = [self._chain_cert(item, entry.index, entry.timestamp_ms) for item in chain]
                chain_issuer = items[0].spki if items else None
                previous_chain = chain
                run_index, run_ms = entry.index, entry.timestamp_ms
            elif entry.timestamp_ms < run_ms:
                run_index, run_ms = entry.index, entry.timestamp_ms
            issuer = entry.issuer_key_hash
            precert = issuer is not None
            if issuer is None:
                issuer = chain_issuer
            key = (issuer or b"", entry.timestamp_ms // _MS_PER_DAY, precert)
            counts[key] = counts.get(key, 0) + 1
            if issuer is not None and issuer in watched:
                self._keep_leaf(
                    entry.index, entry.timestamp_ms, entry.leaf_hash, precert, issuer, entry.leaf_der_or_tbs
                )
        for item in items:
            item.seen(run_index, run_ms)
        for bad in batch.bad_entries:
            self.errors.append(StagedError(bad.index, bad.leaf_hash, bad.reason))

    def _keep_leaf(  # noqa: PLR0917 - one call site, in the hot loop
        self, index: int, timestamp_ms: int, leaf_hash: bytes, precert: bool, issuer: bytes, der: bytes
    ) -> None:
        """A watched issuer's leaf: serial and validity by DER walk (a precert entry logs the TBS)."""
        leaves = self.leaves
        try:
            fields = leaf_fields(der, is_tbs=precert)
            serial: bytes | None = fields.serial
            not_before_s: int | None = fields.not_before_s
            not_after_s: int | None = fields.not_after_s
        except DerWalkError as exc:
            serial = not_before_s = not_after_s = None
            self.errors.append(StagedError(index, leaf_hash, f"leaf DER: {exc}"))
        leaves.entry_index.append(index)
        leaves.timestamp_ms.append(timestamp_ms)
        leaves.leaf_hash.append(leaf_hash)
        leaves.precert.append(precert)
        leaves.issuer_spki_sha256.append(issuer.hex())
        leaves.serial.append(serial)
        leaves.not_before_s.append(not_before_s)
        leaves.not_after_s.append(not_after_s)

    def finish(self, cpu_s: dict[str, float]) -> StagedRange:
        """The staged range; raises ValueError if the batches did not cover the whole range."""
        if self.next_index != self._end_exclusive:
            raise ValueError(f"range ends at {self._end_exclusive}, batches stopped at {self.next_index}")
        counts = [
            StagedCount(issuer.hex(), day, precert, entries)
            for (issuer, day, precert), entries in sorted(self.counts.items())
        ]
        return StagedRange(
            log_id=self._log_id,
            start=self._start,
            end_exclusive=self._end_exclusive,
            tree_head=self._tree_head,
            certs=[
                StagedCert(c.der, c.first_index, c.earliest_index, c.earliest_timestamp_ms)
                for c in self._chain_certs
            ],
            leaves=self.leaves,
            counts=counts,
            errors=sorted(self.errors, key=lambda error: error.entry_index),
            cpu_s=cpu_s,
        )
