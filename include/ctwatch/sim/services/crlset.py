"""The simulated CRLSet: Chrome's binary of revoked serials per issuer, as of a moment.

Layout: uint16-LE header length, the JSON header, then per parent (the issuer's SPKI SHA-256) a
uint32-LE count and the length-prefixed serials.
"""

from __future__ import annotations

import json
import struct
from datetime import datetime

from ctwatch.sim.revocations import RevocationWorld


def crlset(revocations: RevocationWorld, moment: datetime) -> bytes:
    """Chrome's CRLSet binary as of `moment` (parents keyed by the issuer's SPKI SHA-256)."""
    by_parent: dict[bytes, list[int]] = {}
    for rev in revocations.crlset_as_of(moment):
        issuer = revocations.ca_certs[rev.scope]
        by_parent.setdefault(revocations.spki_sha256(issuer), []).append(rev.serial)
    header = {
        "Version": 0,
        "ContentType": "CRLSet",
        "Sequence": revocations.crlset_sequence(moment),
        "DeltaFrom": 0,
        "NumParents": len(by_parent),
        "BlockedSPKIs": [],
        "KnownInterceptionSPKIs": None,
        "BlockedInterceptionSPKIs": [],
        "NotAfter": int(moment.timestamp()) + revocations.settings.crlset_validity_days * 86400,
    }
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    out = bytearray(struct.pack("<H", len(header_bytes)) + header_bytes)
    for spki_hash in sorted(by_parent):
        serials = sorted(by_parent[spki_hash])
        out += spki_hash + struct.pack("<I", len(serials))
        for serial in serials:
            raw = serial.to_bytes(serial.bit_length() // 8 + 1, "big", signed=True)
            out += bytes([len(raw)]) + raw
    return bytes(out)
