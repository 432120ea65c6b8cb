"""One revoked entry of a CRL, decoded from its bytes: serial, revocation date and the entry
extensions (reason code, invalidity date, certificate issuer). This is the hot path of reading a
large CRL, so extension OIDs are compared as raw content bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ctwatch.crl._der import (
    ENUMERATED,
    INTEGER,
    SEQUENCE,
    CrlFormatError,
    children,
    decode_integer,
    decode_oid,
    decode_time,
    serial_hex,
    tlv,
)
from ctwatch.crl.extensions import extension_parts
from ctwatch.evidence.revocation import CRLReason

# Extension OID content bytes (after the 0x06 tag and length).
_OID_REASON_CODE = bytes.fromhex("551d15")
_OID_INVALIDITY_DATE = bytes.fromhex("551d18")
_OID_CERTIFICATE_ISSUER = bytes.fromhex("551d1d")


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


def parse_entry(buf: bytes, start: int, end: int) -> CrlEntry:
    """The revoked entry whose content is buf[start:end]; CrlFormatError when it is no entry, a
    problem recorded in the entry for a field that does not decode."""
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
        for element in children(buf, tlv(buf, time_end, end, "entry")[1], end, "entry"):
            oid, critical_element, value_start, value_end = extension_parts(
                buf, element, "crlEntryExtensions", "entry extension"
            )
            if oid in seen_oids:
                problems.append(f"entry extension {decode_oid(oid)} appears twice")
            seen_oids.add(oid)
            critical = (
                critical_element is not None and buf[critical_element[1] : critical_element[2]] != b"\x00"
            )
            try:
                if oid == _OID_REASON_CODE:
                    reason_critical = critical
                    tag, s, e = tlv(buf, value_start, value_end, "reasonCode")
                    if tag != ENUMERATED:
                        raise CrlFormatError("reasonCode is not ENUMERATED")
                    if e - s > 4:  # CRLReason values fit in one byte
                        raise CrlFormatError(f"reasonCode of {e - s} bytes")
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
