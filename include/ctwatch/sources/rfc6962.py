"""RFC 6962 log client: verified tree heads, proofs, and entries proven part of a tree head.

Index ranges are half-open (`start`, `end_exclusive`) everywhere outside this module; the API's
inclusive `end` of `get-entries` is computed in `_fetch_raw` only.

Entries come as `EntryBatch`es (one per request window, in index order): decoding a whole batch
at once keeps the per-entry cost at JSON + base64 + one leaf hash, and a batch is also the unit a
stager writes. The get-entries envelope is decoded by msgspec straight into bytes (its C base64);
only when some base64 is invalid is the body decoded again as text, so that the bad entry is
reported by index while the others are kept.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import msgspec

from ctwatch.ct.entries import EntryDecodeError, LogEntry, decode_rfc6962_entry, decode_rfc6962_entry_b64
from ctwatch.ct.merkle import (
    CompactRange,
    ProofError,
    leaf_hash,
    verify_compact_range,
    verify_consistency,
    verify_whole_tree,
)
from ctwatch.ct.signatures import SignatureError, SignedTreeHead, verify_tree_head
from ctwatch.sources.http import BodyError, FetchError, HttpClient, Politeness, fetch_in_order, join_url


class _RawEntry(msgspec.Struct):
    leaf_input: bytes
    extra_data: bytes


class _RawEntries(msgspec.Struct):
    entries: list[_RawEntry]


class _TextEntry(msgspec.Struct):
    leaf_input: str
    extra_data: str


class _TextEntries(msgspec.Struct):
    entries: list[_TextEntry]


class _Sth(msgspec.Struct):
    tree_size: int
    timestamp: int
    sha256_root_hash: bytes
    tree_head_signature: bytes


class _Consistency(msgspec.Struct):
    consistency: list[bytes]


class _AuditProof(msgspec.Struct):
    leaf_index: int
    audit_path: list[bytes]


_Item = _RawEntry | _TextEntry
T = TypeVar("T")

_ENTRIES = msgspec.json.Decoder(_RawEntries)
_TEXT_ENTRIES = msgspec.json.Decoder(_TextEntries)
_STH = msgspec.json.Decoder(_Sth)
_CONSISTENCY = msgspec.json.Decoder(_Consistency)
_AUDIT_PROOF = msgspec.json.Decoder(_AuditProof)


@dataclass(frozen=True, slots=True)
class BadEntry:
    """An entry the log served that does not decode: kept with its reason, never dropped.

    `leaf_hash` is the hash of the served leaf bytes (so the range can still be proven), or None
    when not even those could be read (then the range cannot be proven).
    """

    index: int
    reason: str
    leaf_hash: bytes | None


@dataclass(slots=True)
class EntryBatch:
    """Consecutive entries [start, end_exclusive): decoded ones and bad ones, each in index order."""

    start: int
    end_exclusive: int
    entries: list[LogEntry]
    bad_entries: list[BadEntry]

    def leaf_hashes(self) -> list[bytes | None]:
        """Leaf hash of every index of the batch, in order (None: unreadable bad entry)."""
        if not self.bad_entries:
            return [entry.leaf_hash for entry in self.entries]
        by_index: dict[int, bytes | None] = {entry.index: entry.leaf_hash for entry in self.entries}
        by_index.update((bad.index, bad.leaf_hash) for bad in self.bad_entries)
        return [by_index.get(index) for index in range(self.start, self.end_exclusive)]


class TreeHeadError(SignatureError):
    """A served tree head that is not signed by the log key: the `served` body is the evidence."""

    def __init__(self, url: str, reason: str, served: bytes) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.served = served


def _decode_json(decoder: msgspec.json.Decoder[T], body: bytes) -> T:
    try:
        return decoder.decode(body)
    except msgspec.DecodeError as exc:  # truncated, not JSON, or not the schema: retried
        raise BodyError(str(exc)) from exc


def _decode_entries(body: bytes) -> list[_RawEntry] | list[_TextEntry]:
    try:
        return _ENTRIES.decode(body).entries
    except msgspec.ValidationError:
        pass  # some value is not base64 (or not a string): find out which entry below
    except msgspec.DecodeError as exc:
        raise BodyError(str(exc)) from exc
    try:
        return _TEXT_ENTRIES.decode(body).entries
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # a string that is not UTF-8
        raise BodyError(str(exc)) from exc


def _decode_batch(start: int, raw: list[_Item]) -> EntryBatch:
    entries: list[LogEntry] = []
    bad: list[BadEntry] = []
    for index, item in enumerate(raw, start):
        try:
            if isinstance(item, _RawEntry):
                entries.append(decode_rfc6962_entry(index, item.leaf_input, item.extra_data))
            else:
                entries.append(decode_rfc6962_entry_b64(index, item.leaf_input, item.extra_data))
        except EntryDecodeError as exc:
            bad.append(BadEntry(index, str(exc), _served_leaf_hash(item)))
    return EntryBatch(start, start + len(raw), entries, bad)


def _served_leaf_hash(item: _Item) -> bytes | None:
    if isinstance(item, _RawEntry):
        return leaf_hash(item.leaf_input)
    try:
        return leaf_hash(binascii.a2b_base64(item.leaf_input, strict_mode=True))
    except (binascii.Error, ValueError):
        return None


class Rfc6962Client:
    """Client of one RFC 6962 log at `base_url` (ending in the log prefix, e.g. .../logs/argon2024/)."""

    def __init__(
        self,
        base_url: str,
        public_key_der: bytes,
        politeness: Politeness | None = None,
        *,
        http: HttpClient | None = None,
    ) -> None:
        self.base_url = base_url
        self.public_key_der = public_key_der
        self.http = http or HttpClient(politeness or Politeness())
        self.politeness = self.http.politeness

    def _url(self, endpoint: str) -> str:
        return join_url(self.base_url, "ct/v1/" + endpoint)

    # -- tree heads and proofs --

    def get_sth(self, *, consistent_with: SignedTreeHead | None = None) -> SignedTreeHead:
        """The log's current tree head, signature verified (TreeHeadError otherwise).

        With `consistent_with` (an earlier verified head), also proves the new head extends it
        (ProofError with expected vs served otherwise).
        """
        url = self._url("get-sth")
        served, body = self.http.get(url, lambda raw: (_decode_json(_STH, raw), raw))
        sth = SignedTreeHead(
            served.tree_size, served.timestamp, served.sha256_root_hash, served.tree_head_signature
        )
        try:
            verify_tree_head(sth, self.public_key_der)
        except SignatureError as exc:
            raise TreeHeadError(url, exc.reason, body) from exc
        if consistent_with is not None:
            self.prove_consistency(consistent_with, sth)
        return sth

    def get_sth_consistency(self, first: int, second: int) -> list[bytes]:
        """The consistency proof between tree sizes `first` and `second` (unverified)."""
        params = {"first": first, "second": second}
        answer = self.http.get(
            self._url("get-sth-consistency"), partial(_decode_json, _CONSISTENCY), params=params
        )
        return answer.consistency

    def prove_consistency(self, old: SignedTreeHead, new: SignedTreeHead) -> None:
        """Prove that `new` extends `old` (both verified heads); ProofError otherwise."""
        if old.tree_size > new.tree_size:
            old, new = new, old
        proof = (
            self.get_sth_consistency(old.tree_size, new.tree_size)
            if 0 < old.tree_size < new.tree_size
            else []
        )
        verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof)

    def get_proof_by_hash(self, leaf_hash: bytes, tree_size: int) -> tuple[int, list[bytes]]:
        """(leaf index, audit path) of a leaf hash in the tree of `tree_size` (unverified)."""
        params: dict[str, str | int] = {"hash": _b64(leaf_hash), "tree_size": tree_size}
        answer = self.http.get(
            self._url("get-proof-by-hash"), partial(_decode_json, _AUDIT_PROOF), params=params
        )
        return answer.leaf_index, answer.audit_path

    # -- entries --

    def get_entries(self, start: int, end_exclusive: int) -> Iterator[EntryBatch]:
        """Entries [start, end_exclusive) in batches of at most `politeness.batch_size`, in order.

        Short answers are followed up until each batch is complete; requests run up to
        `politeness.concurrency` ahead of the consumer. Raises FetchError when the log fails.
        """
        if not 0 <= start <= end_exclusive:
            raise ValueError(f"bad entry range [{start}, {end_exclusive})")
        size = self.politeness.batch_size
        windows = (
            (low, partial(self._fetch_raw, low, min(low + size, end_exclusive)))
            for low in range(start, end_exclusive, size)
        )
        for low, raw in fetch_in_order(self.politeness.concurrency, windows):
            yield _decode_batch(low, raw)

    def _fetch_raw(self, start: int, end_exclusive: int) -> list[_Item]:
        """All raw entries of [start, end_exclusive), following a log that serves fewer than asked."""
        collected: list[_Item] = []
        url = self._url("get-entries")
        while start + len(collected) < end_exclusive:
            low = start + len(collected)
            wanted = end_exclusive - low
            params = {"start": low, "end": end_exclusive - 1}  # RFC 6962: `end` is inclusive
            got = self.http.get(url, partial(_decode_nonempty_entries, low), params=params)
            collected.extend(got[:wanted])  # more than asked belongs to no window of ours
        return collected

    def verified_entries(self, start: int, end_exclusive: int, sth: SignedTreeHead) -> Iterator[EntryBatch]:
        """Entries [start, end_exclusive), proven to be the leaves of the verified head `sth`.

        Batches are yielded as they arrive (so memory stays bounded) and the proof is made after
        the last one: the iteration completes only if the whole range is proven. On ProofError
        (expected vs served root) the caller must discard everything staged from this call.
        Works for any window, from index 0 or mid-log: two audit paths from `get-proof-by-hash`
        supply the tree outside the window.
        """
        if not 0 <= start < end_exclusive <= sth.tree_size:
            raise ValueError(f"range [{start}, {end_exclusive}) is not inside tree size {sth.tree_size}")
        folded = CompactRange(start)
        first_hash = last_hash = b""
        for batch in self.get_entries(start, end_exclusive):
            hashes = batch.leaf_hashes()
            for bad in batch.bad_entries:
                if bad.leaf_hash is None:
                    raise ProofError(f"entry {bad.index} cannot be hashed ({bad.reason}): range unprovable")
            known = [h for h in hashes if h is not None]
            folded.merge(CompactRange.from_leaf_hashes(batch.start, known))
            first_hash = first_hash or known[0]
            last_hash = known[-1]
            yield batch
        self._prove_range(folded, first_hash, last_hash, sth)

    def _prove_range(
        self, folded: CompactRange, first_hash: bytes, last_hash: bytes, sth: SignedTreeHead
    ) -> None:
        if folded.begin == 0 and folded.end == sth.tree_size:
            verify_whole_tree(folded, sth.root_hash, "the tree head root")
            return
        proofs: list[list[bytes]] = []
        for index, value in ((folded.begin, first_hash), (folded.end - 1, last_hash)):
            try:
                served_index, path = self.get_proof_by_hash(value, sth.tree_size)
            except FetchError as exc:
                if exc.status != 404:
                    raise
                raise ProofError(
                    f"the log knows no leaf with the hash of served entry {index} "
                    f"in the tree of size {sth.tree_size}",
                    served=value,
                ) from exc
            if served_index != index:
                raise ProofError(f"log places the leaf hash of entry {index} at index {served_index}")
            proofs.append(path)
        verify_compact_range(
            folded,
            sth.tree_size,
            sth.root_hash,
            first_inclusion_proof=proofs[0],
            last_inclusion_proof=proofs[1],
        )


def _decode_nonempty_entries(start: int, body: bytes) -> list[_RawEntry] | list[_TextEntry]:
    entries = _decode_entries(body)
    if not entries:
        raise BodyError(f"no entries served from index {start}")
    return entries


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode()
