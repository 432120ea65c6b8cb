"""Chrome's CRLSet: the binary format, plain or inside the CRX3 package Chrome downloads.

Format (Chromium net/cert/crl_set.cc): uint16-LE header length, a JSON header (Sequence,
NotAfter, BlockedSPKIs, ...), then per issuer: SHA-256 of its SubjectPublicKeyInfo (32 bytes),
uint32-LE serial count, and each serial as a 1-byte length + the serial's bytes (leading zero
bytes stripped, as Chrome compares them). BlockedSPKIs are base64 SHA-256 of blocked keys.
CRLSets carry no revocation dates: a sighting says only "listed as of this snapshot".
The CRX3 signature is not verified here (the fetch is over HTTPS from Google).
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime

from ctwatch.evidence.revocation import (
    RecordError,
    Sighting,
    SightingStatus,
    Snapshot,
    SourceName,
    StampKind,
    serial_hex_from_unsigned,
)
from ctwatch.sources.http import HttpClient

OBSERVER = "crlset"
_CRX3_MAGIC = b"Cr24"
MAX_CRLSET_BYTES = 64 << 20  # real CRLSets are under 1 MB
# What reading a damaged zip raises: bad structure, a missing member, a truncated or corrupt stream
# (EOFError, zlib.error, OSError), a negative seek (ValueError), an unsupported compression method
# (NotImplementedError) or encryption (RuntimeError).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    KeyError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
)
_CRLSET_MEMBER = "crl-set"


class CrlSetError(ValueError):
    """The bytes are no CRLSet (the reason says where)."""


@dataclass(frozen=True, slots=True)
class CrlSet:
    header: dict[str, object]
    revoked: dict[str, tuple[str, ...]]  # issuer SPKI SHA-256 hex -> serial_hex values
    blocked_spki_sha256: tuple[str, ...]

    @property
    def sequence(self) -> int | None:
        value = self.header.get("Sequence")
        return value if isinstance(value, int) else None


def unwrap_crx3(data: bytes) -> bytes:
    """The `crl-set` member of a CRX3 package; other bytes are returned unchanged."""
    if not data.startswith(_CRX3_MAGIC):
        return data
    if len(data) < 12:
        raise CrlSetError("CRX3 header truncated")
    (header_len,) = struct.unpack_from("<I", data, 8)
    try:
        with zipfile.ZipFile(io.BytesIO(data[12 + header_len :])) as archive:
            member = archive.getinfo(_CRLSET_MEMBER)
            if member.file_size <= MAX_CRLSET_BYTES:  # zipfile reads no more than the size it declares
                return archive.read(member)
    except _ZIP_ERRORS as exc:
        raise CrlSetError(f"CRX3 package without a readable {_CRLSET_MEMBER}: {exc}") from exc
    raise CrlSetError(f"{_CRLSET_MEMBER} of {member.file_size} bytes, more than {MAX_CRLSET_BYTES}")


def parse_crlset(data: bytes) -> CrlSet:
    """Parse a CRLSet (or a CRX3 package holding one). Raises CrlSetError."""
    data = unwrap_crx3(data)
    if len(data) < 2:
        raise CrlSetError("header length truncated")
    (header_len,) = struct.unpack_from("<H", data, 0)
    if 2 + header_len > len(data):
        raise CrlSetError(f"header of {header_len} bytes is longer than the data")
    try:
        header = json.loads(data[2 : 2 + header_len])
    except (ValueError, RecursionError) as exc:
        raise CrlSetError(f"header is not JSON: {exc}") from exc
    if not isinstance(header, dict) or header.get("ContentType") != "CRLSet":
        raise CrlSetError("header does not say ContentType CRLSet")
    position = 2 + header_len
    revoked: dict[str, tuple[str, ...]] = {}
    while position < len(data):
        if position + 36 > len(data):
            raise CrlSetError(f"issuer entry truncated at byte {position}")
        spki_hash = data[position : position + 32].hex()
        (count,) = struct.unpack_from("<I", data, position + 32)
        position += 36
        serials: list[str] = []
        for _ in range(count):
            if position >= len(data):
                raise CrlSetError(f"serial list of issuer {spki_hash} truncated")
            length = data[position]
            end = position + 1 + length
            if end > len(data):
                raise CrlSetError(f"serial of issuer {spki_hash} truncated at byte {position}")
            serials.append(serial_hex_from_unsigned(data[position + 1 : end]))
            position = end
        revoked[spki_hash] = tuple(serials)
    blocked: list[str] = []
    blocked_spkis = header.get("BlockedSPKIs") or []
    if not isinstance(blocked_spkis, list):
        raise CrlSetError("header's BlockedSPKIs is not an array")
    for item in blocked_spkis:
        try:
            blocked.append(base64.b64decode(str(item), validate=True).hex())
        except ValueError as exc:  # binascii.Error, or a plain ValueError for non-ASCII text
            raise CrlSetError(f"BlockedSPKIs entry {item!r} is not base64: {exc}") from exc
    return CrlSet(header=header, revoked=revoked, blocked_spki_sha256=tuple(blocked))


def crlset_snapshot(data: bytes, *, location: str, observed_at: datetime, stamp_kind: StampKind) -> Snapshot:
    """The CRLSet as a snapshot of sightings; an unparseable file is a snapshot with one error."""
    sightings: list[Sighting] = []
    errors: list[RecordError] = []
    try:
        crlset = parse_crlset(data)
    except CrlSetError as exc:
        errors.append(RecordError("file", str(exc)))
    else:
        detail = {"sequence": crlset.sequence}
        for issuer_spki, serials in crlset.revoked.items():
            sightings.extend(
                Sighting(
                    status=SightingStatus.REVOKED,
                    issuer_spki_sha256=issuer_spki,
                    serial_hex=serial,
                    detail=detail,
                )
                for serial in serials
            )
        sightings.extend(
            Sighting(
                status=SightingStatus.REVOKED,
                subject_spki_sha256=spki,
                reason="BlockedSPKIs",
                detail=detail,
            )
            for spki in crlset.blocked_spki_sha256
        )
    return Snapshot.of_body(
        data, SourceName.CRLSET, OBSERVER, observed_at=observed_at, stamp_kind=stamp_kind,
        location=location, lists_all_revoked=True, sightings=sightings, errors=errors,
    )  # fmt: skip


def fetch_crlset(client: HttpClient, url: str, *, observed_at: datetime, stamp_kind: StampKind) -> Snapshot:
    body = client.get(url, lambda raw: raw)
    return crlset_snapshot(body, location=url, observed_at=observed_at, stamp_kind=stamp_kind)
