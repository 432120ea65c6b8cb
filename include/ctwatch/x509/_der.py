"""A minimal DER walker: just enough to slice the raw bytes of a certificate's parts.

cryptography re-encodes names and keys from its parsed form; the key identity
(`spki_sha256`) and name equality must use the bytes exactly as they were signed.
"""

from __future__ import annotations

from dataclasses import dataclass

SEQUENCE = 0x30
CONTEXT_0_CONSTRUCTED = 0xA0  # TBSCertificate.version [0] EXPLICIT


class DerError(ValueError):
    """The bytes are not the DER structure expected."""


def read_tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """Read the TLV at `pos`: return (tag byte, content start, content end_exclusive)."""
    if pos + 2 > end:
        raise DerError(f"truncated TLV header at offset {pos}")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise DerError(f"multi-byte tag at offset {pos}")
    first_length_byte = buf[pos + 1]
    pos += 2
    if first_length_byte < 0x80:
        length = first_length_byte
    elif first_length_byte == 0x80:
        raise DerError(f"indefinite length at offset {pos - 2} (BER, not DER)")
    else:
        length_size = first_length_byte & 0x7F
        if length_size > 4 or pos + length_size > end:
            raise DerError(f"bad length field at offset {pos - 2}")
        length = int.from_bytes(buf[pos : pos + length_size], "big")
        pos += length_size
    if pos + length > end:
        raise DerError(f"length {length} at offset {pos} runs past the end ({end})")
    return tag, pos, pos + length


def outer_sequence_end(buf: bytes) -> int:
    """End (exclusive) of the SEQUENCE that starts `buf`; trailing bytes may follow it."""
    if not buf:
        raise DerError("empty input")
    if buf[0] != SEQUENCE:
        raise DerError(f"expected a SEQUENCE (tag 0x30), found tag 0x{buf[0]:02x}")
    return read_tlv(buf, 0, len(buf))[2]


@dataclass(frozen=True, slots=True)
class CertificateSlices:
    """Raw DER (full TLVs) of the TBSCertificate parts ctwatch hashes or compares."""

    issuer: bytes
    subject: bytes
    spki: bytes


def slice_certificate(der: bytes) -> CertificateSlices:
    """Cut issuer, subject and SubjectPublicKeyInfo out of a Certificate's DER."""
    tag, cert_start, cert_end = read_tlv(der, 0, len(der))
    if tag != SEQUENCE:
        raise DerError("Certificate is not a SEQUENCE")
    tag, pos, tbs_end = read_tlv(der, cert_start, cert_end)
    if tag != SEQUENCE:
        raise DerError("TBSCertificate is not a SEQUENCE")
    # version (optional), serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    parts: list[tuple[int, int, int]] = []
    while pos < tbs_end and len(parts) < 7:
        tag, _, element_end = read_tlv(der, pos, tbs_end)
        parts.append((tag, pos, element_end))
        pos = element_end
    if parts and parts[0][0] == CONTEXT_0_CONSTRUCTED:
        parts = parts[1:]
    if len(parts) < 6:
        raise DerError(f"TBSCertificate has {len(parts)} of the 6 required fields")
    issuer, subject, spki = parts[2], parts[4], parts[5]
    if any(part[0] != SEQUENCE for part in (issuer, subject, spki)):
        raise DerError("issuer, subject or subjectPublicKeyInfo is not a SEQUENCE")
    return CertificateSlices(
        issuer=der[issuer[1] : issuer[2]],
        subject=der[subject[1] : subject[2]],
        spki=der[spki[1] : spki[2]],
    )
