"""A streaming DER CertificateList reader: header, then entries one at a time, then extensions and
signature, never the whole CRL in memory.

cryptography's CRL loader needs the whole file in memory; a CRL can be gigabytes. Here the file is
read through a buffered handle: small fields as whole TLVs, the revokedCertificates list in chunks
of CHUNK_BYTES cut into entries. The TBSCertList bytes are hashed as they pass, and the signature is
checked on that digest with cryptography's prehashed APIs. PEM input is base64-decoded line by line
into a temporary file first.

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
from pyasn1.codec.der import decoder
from pyasn1_modules import rfc5280

from ctwatch.crl._der import (
    BIT_STRING,
    BOOLEAN,
    CONTEXT_0_CONSTRUCTED,
    ENUMERATED,
    GENERALIZED_TIME,
    INTEGER,
    OCTET_STRING,
    OID,
    SEQUENCE,
    UTC_TIME,
    CrlFormatError,
    TappedFile,
    children,
    decode_integer,
    decode_oid,
    decode_time,
    serial_hex,
    tlv,
    tlv_at,
)
from ctwatch.crl._signature import SignatureScheme, algorithm_oid, signature_scheme, verify_digest
from ctwatch.evidence.revocation import CRLReason
from ctwatch.x509 import name_to_rfc4514

CHUNK_BYTES = 1 << 20
MAX_ENTRY_BYTES = 1 << 16  # one revoked entry; real ones are < 200 bytes
MAX_NAME_BYTES = 1 << 16
MAX_EXTENSIONS_BYTES = 1 << 20
MAX_PEM_LINE_BYTES = 1 << 16

# Extension OID content bytes (after the 0x06 tag and length) compared raw on the hot path.
_OID_REASON_CODE = bytes.fromhex("551d15")
_OID_INVALIDITY_DATE = bytes.fromhex("551d18")
_OID_CERTIFICATE_ISSUER = bytes.fromhex("551d1d")
OID_CRL_NUMBER = "2.5.29.20"
OID_DELTA_CRL_INDICATOR = "2.5.29.27"
OID_ISSUING_DISTRIBUTION_POINT = "2.5.29.28"
OID_AUTHORITY_KEY_IDENTIFIER = "2.5.29.35"
_KNOWN_CRL_EXTENSIONS = frozenset(
    {
        OID_CRL_NUMBER,
        OID_DELTA_CRL_INDICATOR,
        OID_ISSUING_DISTRIBUTION_POINT,
        OID_AUTHORITY_KEY_IDENTIFIER,
        "2.5.29.18",  # issuerAltName
        "2.5.29.46",  # freshestCRL
        "1.3.6.1.5.5.7.1.1",  # authorityInfoAccess
    }
)
_REASON_FLAG_NAMES = (
    "unused",
    "keyCompromise",
    "cACompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "certificateHold",
    "privilegeWithdrawn",
    "aACompromise",
)


class SignatureStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNVERIFIABLE = "unverifiable"  # an issuer was given but the signature could not be checked
    NOT_CHECKED = "not_checked"  # no issuer given


@dataclass(frozen=True, slots=True)
class IssuingDistributionPoint:
    """The IDP extension: the partition (scope) a CRL covers."""

    full_name_uris: tuple[str, ...]
    has_other_names: bool  # non-URI fullName entries or nameRelativeToCRLIssuer
    only_user_certs: bool
    only_ca_certs: bool
    only_some_reasons: tuple[str, ...] | None
    indirect_crl: bool
    only_attribute_certs: bool

    def scope_text(self) -> str:
        """A canonical one-line description, used to key partitions."""
        reasons = "all" if self.only_some_reasons is None else ",".join(self.only_some_reasons)
        return (
            f"uris={','.join(sorted(self.full_name_uris))};other={int(self.has_other_names)};"
            f"user={int(self.only_user_certs)};ca={int(self.only_ca_certs)};reasons={reasons};"
            f"indirect={int(self.indirect_crl)};attr={int(self.only_attribute_certs)}"
        )


@dataclass(frozen=True, slots=True)
class CrlHeader:
    version: int  # the version INTEGER: 1 means v2; 0 when absent (v1)
    signature_algorithm_oid: str
    issuer_der: bytes
    issuer_rfc4514: str | None
    this_update: datetime
    next_update: datetime | None


@dataclass(frozen=True, slots=True)
class CrlEntry:
    serial_hex: str
    revoked_at: datetime | None  # None when the revocationDate is not a valid Time (see problems)
    reason_code: int | None  # None when the entry has no reasonCode extension
    invalidity_date: datetime | None
    has_certificate_issuer: bool
    reason_code_critical: bool
    unknown_critical_oids: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def reason(self) -> str | None:
        """RFC 5280 name of the reason code ('keyCompromise'), the number as text when unknown."""
        if self.reason_code is None:
            return None
        try:
            return CRLReason(self.reason_code).rfc_name
        except ValueError:
            return str(self.reason_code)


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
                yield _entry(buf, start, entry_end)
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
        problems: list[str] = []
        crl_number = delta_base = None
        idp = None
        aki_hex = None
        oids: list[str] = []
        unknown_critical: list[str] = []
        found = self._next_header()
        if found is not None:
            tag, length = found
            if tag != CONTEXT_0_CONSTRUCTED:
                raise CrlFormatError(f"TBSCertList: unexpected tag 0x{tag:02x} after the entries")
            if length > MAX_EXTENSIONS_BYTES:
                raise CrlFormatError(f"crlExtensions of {length} bytes")
            block = self._in.read_exact(length)
            for oid, critical, value in _extensions(block, 0, len(block), "crlExtensions"):
                if oid in oids:
                    problems.append(f"extension {oid} appears twice")
                oids.append(oid)
                if critical and oid not in _KNOWN_CRL_EXTENSIONS:
                    unknown_critical.append(oid)
                try:
                    if oid == OID_CRL_NUMBER:
                        crl_number = _integer_value(value)
                    elif oid == OID_DELTA_CRL_INDICATOR:
                        delta_base = _integer_value(value)
                    elif oid == OID_ISSUING_DISTRIBUTION_POINT:
                        idp = _idp(value)
                    elif oid == OID_AUTHORITY_KEY_IDENTIFIER:
                        aki_hex = _aki_hex(value)
                except Exception as exc:  # a malformed extension value is recorded, not raised
                    problems.append(f"extension {oid} not decodable: {exc}")
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
            crl_number=crl_number,
            delta_base_crl_number=delta_base,
            idp=idp,
            aki_hex=aki_hex,
            extension_oids=tuple(oids),
            unknown_critical_oids=tuple(unknown_critical),
            problems=tuple(problems),
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


def _extensions(buf: bytes, start: int, end: int, what: str) -> Iterator[tuple[str, bool, bytes]]:
    """(oid, critical, extnValue content) of each Extension of an [0]/plain Extensions wrapper."""
    tag, seq_start, seq_end = tlv(buf, start, end, what)
    if tag != SEQUENCE:
        raise CrlFormatError(f"{what}: expected a SEQUENCE")
    for ext_tag, ext_start, ext_end in children(buf, seq_start, seq_end, what):
        if ext_tag != SEQUENCE:
            raise CrlFormatError(f"{what}: an Extension is not a SEQUENCE")
        parts = children(buf, ext_start, ext_end, what)
        if len(parts) not in (2, 3) or parts[0][0] != OID or parts[-1][0] != OCTET_STRING:
            raise CrlFormatError(f"{what}: malformed Extension")
        critical = len(parts) == 3 and parts[1][0] == BOOLEAN and buf[parts[1][1] : parts[1][2]] != b"\x00"
        yield decode_oid(buf[parts[0][1] : parts[0][2]]), critical, buf[parts[-1][1] : parts[-1][2]]


def _entry(buf: bytes, start: int, end: int) -> CrlEntry:
    serial_tag, serial_start, serial_end = tlv(buf, start, end, "revoked entry")
    if serial_tag != INTEGER:
        raise CrlFormatError("revoked entry: userCertificate is not an INTEGER")
    problems: list[str] = []
    serial = serial_hex(buf[serial_start:serial_end])
    time_tag, time_start, time_end = tlv(buf, serial_end, end, "revocationDate")
    revoked_at = None
    try:
        revoked_at = decode_time(time_tag, buf[time_start:time_end])
    except CrlFormatError as exc:
        problems.append(f"revocationDate: {exc}")
    reason_code = None
    invalidity_date = None
    certificate_issuer = reason_critical = False
    unknown_critical: list[str] = []
    seen_oids: set[bytes] = set()
    if time_end < end:
        for ext_tag, ext_start, ext_end in children(buf, tlv(buf, time_end, end, "entry")[1], end, "entry"):
            if ext_tag != SEQUENCE:
                raise CrlFormatError("crlEntryExtensions: an Extension is not a SEQUENCE")
            parts = children(buf, ext_start, ext_end, "entry extension")
            if len(parts) not in (2, 3) or parts[0][0] != OID or parts[-1][0] != OCTET_STRING:
                raise CrlFormatError("crlEntryExtensions: malformed Extension")
            oid = buf[parts[0][1] : parts[0][2]]
            if oid in seen_oids:
                problems.append(f"entry extension {decode_oid(oid)} appears twice")
            seen_oids.add(oid)
            critical = len(parts) == 3 and buf[parts[1][1] : parts[1][2]] != b"\x00"
            value_start, value_end = parts[-1][1], parts[-1][2]
            try:
                if oid == _OID_REASON_CODE:
                    reason_critical = critical
                    tag, s, e = tlv(buf, value_start, value_end, "reasonCode")
                    if tag != ENUMERATED:
                        raise CrlFormatError("reasonCode is not ENUMERATED")
                    reason_code = decode_integer(buf[s:e])
                elif oid == _OID_INVALIDITY_DATE:
                    tag, s, e = tlv(buf, value_start, value_end, "invalidityDate")
                    invalidity_date = decode_time(tag, buf[s:e])
                elif oid == _OID_CERTIFICATE_ISSUER:
                    certificate_issuer = True
                    if tlv(buf, value_start, value_end, "certificateIssuer")[0] != SEQUENCE:
                        raise CrlFormatError("certificateIssuer is not GeneralNames")
                elif critical:
                    unknown_critical.append(decode_oid(oid))
            except CrlFormatError as exc:
                problems.append(f"entry extension {decode_oid(oid)}: {exc}")
    return CrlEntry(
        serial_hex=serial,
        revoked_at=revoked_at,
        reason_code=reason_code,
        invalidity_date=invalidity_date,
        has_certificate_issuer=certificate_issuer,
        reason_code_critical=reason_critical,
        unknown_critical_oids=tuple(unknown_critical),
        problems=tuple(problems),
    )


def _integer_value(value: bytes) -> int:
    tag, start, end = tlv(value, 0, len(value), "INTEGER")
    if tag != INTEGER:
        raise CrlFormatError("not an INTEGER")
    return decode_integer(value[start:end])


def _aki_hex(value: bytes) -> str | None:
    decoded, _ = decoder.decode(value, asn1Spec=rfc5280.AuthorityKeyIdentifier())
    key_id = decoded["keyIdentifier"]
    return bytes(key_id).hex() if key_id.isValue else None


def _idp(value: bytes) -> IssuingDistributionPoint:
    decoded, _ = decoder.decode(value, asn1Spec=rfc5280.IssuingDistributionPoint())
    uris: list[str] = []
    other_names = False
    point = decoded["distributionPoint"]
    if point.isValue:
        if point.getName() == "fullName":
            for general_name in point["fullName"]:
                if general_name.getName() == "uniformResourceIdentifier":
                    uris.append(str(general_name["uniformResourceIdentifier"]))
                else:
                    other_names = True
        else:
            other_names = True
    reasons = decoded["onlySomeReasons"]
    some_reasons = None
    if reasons.isValue:
        bits = tuple(reasons)
        some_reasons = tuple(
            name for index, name in enumerate(_REASON_FLAG_NAMES) if index < len(bits) and bits[index]
        )
    return IssuingDistributionPoint(
        full_name_uris=tuple(uris),
        has_other_names=other_names,
        only_user_certs=bool(decoded["onlyContainsUserCerts"]),
        only_ca_certs=bool(decoded["onlyContainsCACerts"]),
        only_some_reasons=some_reasons,
        indirect_crl=bool(decoded["indirectCRL"]),
        only_attribute_certs=bool(decoded["onlyContainsAttributeCerts"]),
    )
