"""Leaf templates: the CT structures around one signed leaf per issuing certificate, with holes.

A log entry is rendered by patching its values (timestamp, serial, validity, host number, leaf
index) into the sentinel bytes of its template, which takes microseconds instead of signing or
storing every leaf.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from ctwatch.ct.entries import (
    EntryType,
    encode_merkle_tree_leaf,
    encode_precert_extra_data,
    encode_tile_leaf,
    encode_timestamped_entry,
    encode_x509_extra_data,
    leaf_index_extension,
)
from ctwatch.sim.pki import (
    HOST_SENTINEL,
    NOT_AFTER_SENTINEL,
    NOT_BEFORE_SENTINEL,
    SERIAL_SENTINEL,
    Hierarchy,
)
from ctwatch.sim.scenario import LogKind

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
    validity_hours: int  # notAfter = notBefore + this (the issuing CA's leaf validity)
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
    validity_days = hierarchy.scenario.leaf_validity_days_of(hierarchy.certs[issuer_cert_id].spec)
    return Template(
        issuer_cert_id=issuer_cert_id,
        precert=precert,
        validity_hours=validity_days * 24,
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


class LeafValues:
    """The values one entry patches into its template, in the order of `_SENTINELS`."""

    def __init__(self) -> None:
        self._utc_times: dict[int, bytes] = {}  # leaves are issued on the hour

    def __call__(
        self,
        template: Template,
        *,
        timestamp_ms: int,
        serial: bytes,
        not_before_hour: int,
        host_number: int,
        index: int,
    ) -> tuple[bytes, ...]:
        return (
            timestamp_ms.to_bytes(8, "big"),
            serial,
            self._utc_time(not_before_hour),
            self._utc_time(not_before_hour + template.validity_hours),
            b"%08d" % host_number,
            index.to_bytes(5, "big"),
        )

    def _utc_time(self, hour: int) -> bytes:
        value = self._utc_times.get(hour)
        if value is None:
            value = time.strftime("%y%m%d%H%M%SZ", time.gmtime(hour * 3600)).encode()
            self._utc_times[hour] = value
        return value


def issuing_variants(hierarchy: Hierarchy) -> dict[str, list[tuple[datetime, str]]]:
    """Per intermediate id with leaves: (valid from, issuing certificate id), oldest first."""
    variants: dict[str, list[tuple[datetime, str]]] = {}
    for cert in hierarchy.certs.values():
        spec = cert.spec
        if spec.leaves + spec.precerts == 0 or spec.parent is None or spec.cross_of:
            continue
        variants.setdefault(spec.id, []).append((hierarchy.not_before(cert), cert.cert_id))
    return {k: sorted(v) for k, v in variants.items()}


def build_templates(hierarchy: Hierarchy) -> list[Template]:
    """Templates in a fixed order: per issuing certificate, x509 then precert."""
    out = []
    for variants in issuing_variants(hierarchy).values():
        for _, cert_id in variants:
            out.append(_build_template(hierarchy, cert_id, precert=False))
            out.append(_build_template(hierarchy, cert_id, precert=True))
    return out
