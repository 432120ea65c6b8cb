"""A streaming DER CertificateList reader: header, then entries one at a time, then extensions and
signature, never the whole CRL in memory.

cryptography's CRL loader needs the whole file in memory; a CRL can be gigabytes. Here the file is
read through a buffered handle: small fields as whole TLVs, the revokedCertificates list in chunks
of CHUNK_BYTES cut into entries. The TBSCertList bytes are hashed as they pass, and the signature is
checked on that digest with cryptography's prehashed APIs. PEM input is base64-decoded line by line
into a temporary file first. Entries are decoded by ctwatch.crl.entries, the CRL extensions by
ctwatch.crl.extensions.

The reader raises CrlFormatError on bytes that are no CertificateList; `scan_crl` (ctwatch.crl.scan)
turns that into a recorded error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, BinaryIO

from cryptography import x509

from ctwatch.crl._der import (
    BIT_STRING,
    CONTEXT_0_CONSTRUCTED,
    GENERALIZED_TIME,
    INTEGER,
    SEQUENCE,
    UTC_TIME,
    CrlFormatError,
    TappedFile,
    decode_integer,
    decode_time,
    tlv_at,
)
from ctwatch.crl._signature import SignatureScheme, algorithm_oid, signature_scheme, verify_digest
from ctwatch.crl.entries import CrlEntry, parse_entry
from ctwatch.crl.extensions import CrlExtensions, IssuingDistributionPoint, read_crl_extensions
from ctwatch.x509 import name_to_rfc4514

CHUNK_BYTES = 1 << 20
MAX_ENTRY_BYTES = 1 << 16  # one revoked entry; real ones are < 200 bytes
MAX_NAME_BYTES = 1 << 16
MAX_EXTENSIONS_BYTES = 1 << 20
MAX_PEM_LINE_BYTES = 1 << 16


class SignatureStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNVERIFIABLE = "unverifiable"  # an issuer was given but the signature could not be checked
    NOT_CHECKED = "not_checked"  # no issuer given


@dataclass(frozen=True, slots=True)
class CrlHeader:
    version: int  # the version INTEGER: 1 means v2; 0 when absent (v1)
    signature_algorithm_oid: str
    issuer_der: bytes
    issuer_rfc4514: str | None
    this_update: datetime
    next_update: datetime | None


@dataclass(frozen=True, slots=True)
class CrlTrailer:
    """What follows the entries: CRL extensions and the signature, with the file's hash."""

    crl_number: int | None
    delta_base_crl_number: int | None
    idp: IssuingDistributionPoint | None
    aki_hex: str | None
    extension_oids: tuple[str, ...]
    unknown_critical_oids: tuple[str, ...]
    problems: tuple[str, ...]
    outer_signature_algorithm_oid: str
    signature_status: SignatureStatus
    signature_detail: str | None
    der_sha256: str
    der_length: int
    trailing_bytes: bool


class CrlReader:
    """One pass over a DER CertificateList: `header`, then `entries()`, then `finish(issuer)`."""

    def __init__(self, file: BinaryIO) -> None:
        self._der_hash = hashlib.sha256()
        self._in = TappedFile(file, self._der_hash.update)
        self._scheme: SignatureScheme | str = "not read"
        self._tbs_hash: hashlib._Hash | None = None
        self._entries_done = False
        self.header = self._read_header()

    def _read_header(self) -> CrlHeader:
        tag, outer_length, _ = self._in.read_header()
        if tag != SEQUENCE:
            raise CrlFormatError(f"not a CertificateList: first tag 0x{tag:02x}")
        self._outer_end = self._in.offset + outer_length
        tbs_tag, tbs_length, tbs_header = self._in.read_header()
        if tbs_tag != SEQUENCE:
            raise CrlFormatError(f"TBSCertList: expected a SEQUENCE, found tag 0x{tbs_tag:02x}")
        self._tbs_end = self._in.offset + tbs_length
        if self._tbs_end > self._outer_end:
            raise CrlFormatError("TBSCertList runs past the CertificateList")
        version = 0
        tag, element, content = self._in.read_tlv(None, "version or signature", MAX_NAME_BYTES)
        tbs_start = tbs_header + element
        if tag == INTEGER:
            if len(content) > 4:  # v1 has none, v2 is 1: a longer one is no version
                raise CrlFormatError(f"version INTEGER of {len(content)} bytes")
            version = decode_integer(content)
            tag, element, content = self._in.read_tlv(SEQUENCE, "signature", MAX_NAME_BYTES)
            tbs_start += element
        elif tag != SEQUENCE:
            raise CrlFormatError(f"TBSCertList: expected version or signature, found tag 0x{tag:02x}")
        self._inner_algorithm = element
        self._scheme = signature_scheme(element)
        if isinstance(self._scheme, SignatureScheme):
            # Everything of the TBS read so far was small and is still at hand: hash it, then tap.
            self._tbs_hash = hashlib.new(self._scheme.hash_name)
            self._tbs_hash.update(tbs_start)
            self._in.tbs_hash = self._tbs_hash.update
        _, issuer_der, _ = self._in.read_tlv(SEQUENCE, "issuer", MAX_NAME_BYTES)
        this_tag, _, this_content = self._in.read_tlv(None, "thisUpdate", 64)
        if this_tag not in (UTC_TIME, GENERALIZED_TIME):
            raise CrlFormatError(f"thisUpdate: expected a Time, found tag 0x{this_tag:02x}")
        this_update = decode_time(this_tag, this_content)
        next_update = None
        self._pending: tuple[int, int] | None = None  # a TLV header read but not yet consumed
        if self._in.offset < self._tbs_end:
            tag, length, _ = self._in.read_header()
            if tag in (UTC_TIME, GENERALIZED_TIME):
                if length > 64:
                    raise CrlFormatError(f"nextUpdate of {length} bytes")
                next_update = decode_time(tag, self._in.read_exact(length))
            else:
                self._pending = (tag, length)
        warnings: list[str] = []
        issuer_text = _name_text(issuer_der, warnings)
        self.issuer_name_problems = tuple(warnings)
        return CrlHeader(
            version=version,
            signature_algorithm_oid=algorithm_oid(self._inner_algorithm),
            issuer_der=issuer_der,
            issuer_rfc4514=issuer_text,
            this_update=this_update,
            next_update=next_update,
        )

    def _next_header(self) -> tuple[int, int] | None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            return pending
        if self._in.offset >= self._tbs_end:
            return None
        tag, length, _ = self._in.read_header()
        return tag, length

    def entries(self) -> Iterator[CrlEntry]:
        """The revoked entries in file order (none when the list is absent)."""
        if self._entries_done:
            raise RuntimeError("entries() can be read once")
        self._entries_done = True
        found = self._next_header()
        if found is None:
            return
        tag, length = found
        if tag != SEQUENCE:
            self._pending = found  # no revokedCertificates: this is crlExtensions
            return
        remaining = length
        carry = b""
        while remaining:
            chunk = self._in.read_exact(min(CHUNK_BYTES, remaining))
            remaining -= len(chunk)
            buf = carry + chunk if carry else chunk
            end = len(buf)
            pos = 0
            while (element := tlv_at(buf, pos, end)) is not None:
                entry_tag, start, entry_end = element
                if entry_tag != SEQUENCE:
                    raise CrlFormatError(f"revoked entry: expected a SEQUENCE, found tag 0x{entry_tag:02x}")
                yield parse_entry(buf, start, entry_end)
                pos = entry_end
            carry = buf[pos:]
            if len(carry) > MAX_ENTRY_BYTES:
                raise CrlFormatError(f"a revoked entry longer than {MAX_ENTRY_BYTES} bytes")
        if carry:
            raise CrlFormatError(f"{len(carry)} bytes at the end of revokedCertificates are no entry")

    def finish(self, issuer: x509.Certificate | None) -> CrlTrailer:
        """Read extensions and signature (skipping unread entries) and check the signature."""
        if not self._entries_done:
            for _ in self.entries():
                pass
        extensions = CrlExtensions()
        found = self._next_header()
        if found is not None:
            tag, length = found
            if tag != CONTEXT_0_CONSTRUCTED:
                raise CrlFormatError(f"TBSCertList: unexpected tag 0x{tag:02x} after the entries")
            if length > MAX_EXTENSIONS_BYTES:
                raise CrlFormatError(f"crlExtensions of {length} bytes")
            extensions = read_crl_extensions(self._in.read_exact(length))
        if self._in.offset != self._tbs_end:
            raise CrlFormatError(f"TBSCertList ends at {self._in.offset}, its length says {self._tbs_end}")
        self._in.tbs_hash = None
        _, outer_algorithm, _ = self._in.read_tlv(SEQUENCE, "signatureAlgorithm", MAX_NAME_BYTES)
        _, _, signature_bits = self._in.read_tlv(BIT_STRING, "signatureValue", MAX_NAME_BYTES)
        if self._in.offset != self._outer_end:
            raise CrlFormatError("CertificateList length does not match its content")
        trailing = not self._in.at_end()
        status, detail = self._check_signature(outer_algorithm, signature_bits, issuer)
        return CrlTrailer(
            crl_number=extensions.crl_number,
            delta_base_crl_number=extensions.delta_base_crl_number,
            idp=extensions.idp,
            aki_hex=extensions.aki_hex,
            extension_oids=tuple(extensions.oids),
            unknown_critical_oids=tuple(extensions.unknown_critical_oids),
            problems=tuple(extensions.problems),
            outer_signature_algorithm_oid=algorithm_oid(outer_algorithm),
            signature_status=status,
            signature_detail=detail,
            der_sha256=self._der_hash.hexdigest(),
            der_length=self._in.offset,
            trailing_bytes=trailing,
        )

    def _check_signature(
        self, outer_algorithm: bytes, signature_bits: bytes, issuer: x509.Certificate | None
    ) -> tuple[SignatureStatus, str | None]:
        if issuer is None:
            return SignatureStatus.NOT_CHECKED, None
        if outer_algorithm != self._inner_algorithm:
            return SignatureStatus.INVALID, "signatureAlgorithm differs from the TBSCertList signature field"
        if isinstance(self._scheme, str) or self._tbs_hash is None:
            return SignatureStatus.UNVERIFIABLE, str(self._scheme)
        if not signature_bits or signature_bits[0] != 0:
            return SignatureStatus.INVALID, "signatureValue BIT STRING has unused bits"
        valid, why = verify_digest(self._scheme, self._tbs_hash.digest(), signature_bits[1:], issuer)
        if valid is None:
            return SignatureStatus.UNVERIFIABLE, why
        return (SignatureStatus.VALID, None) if valid else (SignatureStatus.INVALID, why)


@contextmanager
def open_crl(path: Path, *, temp_dir: Path | None = None) -> Iterator[CrlReader]:
    """A reader over the CRL at `path`, DER or PEM (PEM is decoded to a temporary file first)."""
    with ExitStack() as stack:
        file: BinaryIO = stack.enter_context(path.open("rb"))
        first = file.peek(1)[:1] if hasattr(file, "peek") else b""
        if first != bytes([SEQUENCE]):
            der_file = stack.enter_context(tempfile.TemporaryFile(dir=temp_dir))
            _pem_to_der(file, der_file)
            der_file.seek(0)
            file = der_file
        yield CrlReader(file)


def _pem_to_der(pem: BinaryIO, der: IO[bytes]) -> None:
    """Decode the first X509 CRL PEM block of `pem` into `der`, a bounded line at a time."""
    inside = False
    pending = b""  # base64 characters not yet a multiple of 4
    found_end = False
    while line := pem.readline(MAX_PEM_LINE_BYTES):
        stripped = line.strip()
        if not inside:
            inside = stripped in (b"-----BEGIN X509 CRL-----", b"-----BEGIN CRL-----")
            continue
        if stripped.startswith(b"-----END"):
            found_end = True
            break
        text = pending + b"".join(stripped.split())
        usable = len(text) - len(text) % 4
        pending = text[usable:]
        try:
            der.write(base64.b64decode(text[:usable], validate=True))
        except binascii.Error as exc:
            raise CrlFormatError(f"PEM body is not base64: {exc}") from exc
    if not inside:
        raise CrlFormatError("neither DER (no leading SEQUENCE) nor a PEM X509 CRL block")
    if not found_end or pending:
        raise CrlFormatError("PEM X509 CRL block is truncated")


def _name_text(name_der: bytes, warnings: list[str]) -> str | None:
    try:
        return name_to_rfc4514(name_der, warnings)
    except Exception as exc:  # a name pyasn1 cannot decode is recorded, not raised
        warnings.append(f"issuer name not decodable: {exc}")
        return None
