"""DER pieces the streaming CRL reader needs: an incremental TLV reader over a file, times, OIDs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import BinaryIO

INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
OID = 0x06
ENUMERATED = 0x0A
SEQUENCE = 0x30
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
BOOLEAN = 0x01
CONTEXT_0_CONSTRUCTED = 0xA0
MAX_OID_BYTES = 255


class CrlFormatError(ValueError):
    """The bytes are not a DER CertificateList (the reason says where and why)."""


class TappedFile:
    """Reads exact byte counts from a binary file, feeding every byte read to the taps.

    `der_hash` sees every byte (the CRL's sha256); `tbs_hash`, when set, sees the bytes read
    while it is set (the TBSCertList the signature covers).
    """

    def __init__(self, file: BinaryIO, der_hash: Callable[[bytes], object]) -> None:
        self._file = file
        self._der_hash = der_hash
        self.tbs_hash: Callable[[bytes], object] | None = None
        self.offset = 0

    def read_exact(self, length: int) -> bytes:
        data = self._file.read(length)
        if len(data) != length:
            raise CrlFormatError(f"truncated: wanted {length} bytes at offset {self.offset}, got {len(data)}")
        self._der_hash(data)
        if self.tbs_hash is not None:
            self.tbs_hash(data)
        self.offset += length
        return data

    def read_header(self) -> tuple[int, int, bytes]:
        """Read one TLV header: return (tag byte, content length, the header bytes)."""
        start = self.offset
        first = self.read_exact(2)
        tag, length_byte = first[0], first[1]
        if tag & 0x1F == 0x1F:
            raise CrlFormatError(f"multi-byte tag at offset {start}")
        if length_byte < 0x80:
            return tag, length_byte, first
        if length_byte == 0x80:
            raise CrlFormatError(f"indefinite length at offset {start} (BER, not DER)")
        length_size = length_byte & 0x7F
        if length_size > 8:
            raise CrlFormatError(f"length field of {length_size} bytes at offset {start}")
        length_bytes = self.read_exact(length_size)
        return tag, int.from_bytes(length_bytes, "big"), first + length_bytes

    def read_tlv(self, expected_tag: int | None, what: str, max_length: int) -> tuple[int, bytes, bytes]:
        """Read a whole small TLV: (tag, header+content bytes, content bytes)."""
        start = self.offset
        tag, length, header = self.read_header()
        if expected_tag is not None and tag != expected_tag:
            raise CrlFormatError(f"{what}: expected tag 0x{expected_tag:02x}, found 0x{tag:02x} at {start}")
        if length > max_length:
            raise CrlFormatError(f"{what}: {length} bytes at offset {start}, more than {max_length}")
        content = self.read_exact(length)
        return tag, header + content, content

    def at_end(self) -> bool:
        """True when the file has no byte left after the current offset."""
        data = self._file.read(1)
        if not data:
            return True
        self._der_hash(data)
        self.offset += 1
        return False


def tlv_at(buf: bytes, pos: int, end: int) -> tuple[int, int, int] | None:
    """(tag, content start, content end) of the TLV at `pos`, or None when it runs past `end`.

    Raises CrlFormatError for a header that is malformed rather than merely incomplete.
    """
    if pos + 2 > end:
        return None
    tag, length_byte = buf[pos], buf[pos + 1]
    if tag & 0x1F == 0x1F:
        raise CrlFormatError(f"multi-byte tag at offset {pos}")
    pos += 2
    if length_byte < 0x80:
        length = length_byte
    elif length_byte == 0x80:
        raise CrlFormatError("indefinite length (BER, not DER)")
    else:
        length_size = length_byte & 0x7F
        if length_size > 4:
            raise CrlFormatError(f"length field of {length_size} bytes")
        if pos + length_size > end:
            return None
        length = int.from_bytes(buf[pos : pos + length_size], "big")
        pos += length_size
    if pos + length > end:
        return None
    return tag, pos, pos + length


def tlv(buf: bytes, pos: int, end: int, what: str) -> tuple[int, int, int]:
    """Like `tlv_at`, for a TLV that must lie inside [pos, end)."""
    found = tlv_at(buf, pos, end)
    if found is None:
        raise CrlFormatError(f"{what}: truncated")
    return found


def children(buf: bytes, start: int, end: int, what: str) -> list[tuple[int, int, int]]:
    """The TLVs one after another in buf[start:end]."""
    found = []
    while start < end:
        element = tlv(buf, start, end, what)
        found.append(element)
        start = element[2]
    return found


def decode_time(tag: int, content: bytes) -> datetime:
    """An RFC 5280 Time: UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ, UTC."""
    try:
        text = content.decode("ascii")
    except UnicodeDecodeError as exc:
        raise CrlFormatError(f"time is not ASCII: {content!r}") from exc
    if tag == UTC_TIME and len(text) == 13 and text.endswith("Z") and text[:12].isdigit():
        year = int(text[0:2])
        year += 1900 if year >= 50 else 2000  # RFC 5280 4.1.2.5.1
        rest = text[2:12]
    elif tag == GENERALIZED_TIME and len(text) == 15 and text.endswith("Z") and text[:14].isdigit():
        year = int(text[0:4])
        rest = text[4:14]
    else:
        raise CrlFormatError(f"invalid time {text!r} (tag 0x{tag:02x})")
    try:
        return datetime(
            year, int(rest[0:2]), int(rest[2:4]), int(rest[4:6]), int(rest[6:8]), int(rest[8:10]), tzinfo=UTC
        )
    except ValueError as exc:
        raise CrlFormatError(f"invalid time {text!r}: {exc}") from exc


def decode_oid(content: bytes) -> str:
    """Dotted text of an OBJECT IDENTIFIER's content bytes."""
    if len(content) > MAX_OID_BYTES:  # an arc of thousands of digits is no OID (and str() refuses it)
        raise CrlFormatError(f"OID of {len(content)} bytes, more than {MAX_OID_BYTES}")
    if not content or content[-1] & 0x80:
        raise CrlFormatError(f"malformed OID {content.hex()}")
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(arc) for arc in head + arcs[1:])


def decode_integer(content: bytes) -> int:
    if not content:
        raise CrlFormatError("empty INTEGER")
    return int.from_bytes(content, "big", signed=True)


def serial_hex(content: bytes) -> str:
    """The serial's hex in ctwatch.x509's form: plain hex when positive, else two's complement bytes."""
    value = decode_integer(content)
    if value > 0:
        return format(value, "x")
    if value == 0:
        return "0"
    return value.to_bytes(((~value).bit_length() + 8) // 8, "big", signed=True).hex()
