"""X.509 Extensions as the CRL reader meets them: the Extension structure shared by the CRL and its
entries, and the CRL extensions ctwatch reads (CRL number, delta indicator, issuing distribution
point, authority key identifier)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pyasn1.codec.der import decoder
from pyasn1_modules import rfc5280

from ctwatch.crl._der import (
    BOOLEAN,
    INTEGER,
    OCTET_STRING,
    OID,
    SEQUENCE,
    CrlFormatError,
    children,
    decode_integer,
    decode_oid,
    tlv,
)

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


@dataclass(slots=True)
class CrlExtensions:
    """What the crlExtensions block says, and what was wrong with it."""

    crl_number: int | None = None
    delta_base_crl_number: int | None = None
    idp: IssuingDistributionPoint | None = None
    aki_hex: str | None = None
    oids: list[str] = field(default_factory=list)
    unknown_critical_oids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def extension_parts(
    buf: bytes, element: tuple[int, int, int], what: str, parts_what: str
) -> tuple[bytes, tuple[int, int, int] | None, int, int]:
    """An Extension TLV's parts: OID content bytes, the critical element if present, and where the
    extnValue content starts and ends."""
    ext_tag, ext_start, ext_end = element
    if ext_tag != SEQUENCE:
        raise CrlFormatError(f"{what}: an Extension is not a SEQUENCE")
    parts = children(buf, ext_start, ext_end, parts_what)
    if len(parts) not in (2, 3) or parts[0][0] != OID or parts[-1][0] != OCTET_STRING:
        raise CrlFormatError(f"{what}: malformed Extension")
    critical = parts[1] if len(parts) == 3 else None
    return buf[parts[0][1] : parts[0][2]], critical, parts[-1][1], parts[-1][2]


def _extensions(buf: bytes, what: str) -> Iterator[tuple[str, bool, bytes]]:
    """(oid, critical, extnValue content) of each Extension of an Extensions SEQUENCE."""
    tag, seq_start, seq_end = tlv(buf, 0, len(buf), what)
    if tag != SEQUENCE:
        raise CrlFormatError(f"{what}: expected a SEQUENCE")
    for element in children(buf, seq_start, seq_end, what):
        oid, critical_element, value_start, value_end = extension_parts(buf, element, what, what)
        critical = (
            critical_element is not None
            and critical_element[0] == BOOLEAN
            and buf[critical_element[1] : critical_element[2]] != b"\x00"
        )
        yield decode_oid(oid), critical, buf[value_start:value_end]


def read_crl_extensions(block: bytes) -> CrlExtensions:
    """The crlExtensions block (its [0] content); a value that does not decode is a problem, not an
    error, while a malformed structure raises CrlFormatError."""
    found = CrlExtensions()
    for oid, critical, value in _extensions(block, "crlExtensions"):
        if oid in found.oids:
            found.problems.append(f"extension {oid} appears twice")
        found.oids.append(oid)
        if critical and oid not in _KNOWN_CRL_EXTENSIONS:
            found.unknown_critical_oids.append(oid)
        try:
            if oid == OID_CRL_NUMBER:
                found.crl_number = _integer_value(value)
            elif oid == OID_DELTA_CRL_INDICATOR:
                found.delta_base_crl_number = _integer_value(value)
            elif oid == OID_ISSUING_DISTRIBUTION_POINT:
                found.idp = _idp(value)
            elif oid == OID_AUTHORITY_KEY_IDENTIFIER:
                found.aki_hex = _aki_hex(value)
        except Exception as exc:  # a malformed extension value is recorded, not raised
            found.problems.append(f"extension {oid} not decodable: {exc}")
    return found


def _integer_value(value: bytes) -> int:
    tag, start, end = tlv(value, 0, len(value), "INTEGER")
    if tag != INTEGER:
        raise CrlFormatError("not an INTEGER")
    if end - start > 20:
        raise CrlFormatError(f"INTEGER of {end - start} bytes, more than the 20 RFC 5280 allows a CRL number")
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
