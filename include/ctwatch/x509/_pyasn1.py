"""pyasn1 decoding: the fallback for certificates cryptography refuses, and for single parts
(names, extensions) that cryptography parses lazily and fails on."""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pyasn1.codec.der import decoder as der_decoder
from pyasn1.type import char
from pyasn1_modules import rfc5280

from ctwatch.timeutil import require_aware
from ctwatch.x509 import _der
from ctwatch.x509._draft import Draft, describe
from ctwatch.x509.oids import (
    AIA_CA_ISSUERS,
    AIA_OCSP,
    EXT_OCSP_NOCHECK,
    EXT_PRECERT_POISON,
)

# Same short names as cryptography's rfc4514_string(), so both parsers print a name alike.
_SHORT_ATTRIBUTE_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}

# RFC 5280 KeyUsage bit names -> cryptography's attribute names (ParsedCert.key_usage).
_KEY_USAGE_NAMES = {
    "digitalSignature": "digital_signature",
    "nonRepudiation": "content_commitment",
    "keyEncipherment": "key_encipherment",
    "dataEncipherment": "data_encipherment",
    "keyAgreement": "key_agreement",
    "keyCertSign": "key_cert_sign",
    "cRLSign": "crl_sign",
    "encipherOnly": "encipher_only",
    "decipherOnly": "decipher_only",
}


def _decode(data: bytes, spec: Any) -> Any:
    value, rest = der_decoder.decode(data, asn1Spec=spec)
    if rest:
        raise ValueError(f"{len(rest)} bytes after the {type(spec).__name__}")
    return value


def _escape_rfc4514(text: str) -> str:
    # Mirrors cryptography's _escape_dn_value.
    if not text:
        return ""
    for special in ("\\", '"', "+", ",", ";", "<", ">"):
        text = text.replace(special, "\\" + special)
    text = text.replace("\0", "\\00")
    if text[0] == "#" or (text[0] == " " and len(text) > 1):
        text = "\\" + text
    if text[-1] == " ":
        text = text[:-1] + "\\ "
    return text


def _attribute_value_text(value_der: bytes, warnings: list[str]) -> str:
    """A string value as text; anything else (or undecodable text) as RFC 4514 `#hex`."""
    try:
        value, _ = der_decoder.decode(value_der)
        if isinstance(value, char.AbstractCharacterString):
            return _escape_rfc4514(str(value))
    except Exception as exc:  # fall through to the hex form
        warnings.append(f"name attribute value kept as hex: {describe(exc)}")
    return "#" + value_der.hex()


def name_to_rfc4514(name_der: bytes, warnings: list[str]) -> str:
    """RFC 4514 text of a DER Name, in cryptography's style."""
    return _name_text(_decode(name_der, rfc5280.Name()), warnings)


def _name_text(name: Any, warnings: list[str]) -> str:
    # RDNs in reverse order, '+' between the attributes of one RDN (as cryptography does)
    rdns = []
    for rdn in name["rdnSequence"]:
        attributes = []
        for attribute in rdn:
            oid = str(attribute["type"])
            label = _SHORT_ATTRIBUTE_NAMES.get(oid, oid)
            attributes.append(f"{label}={_attribute_value_text(bytes(attribute['value']), warnings)}")
        rdns.append("+".join(attributes))
    return ",".join(reversed(rdns))


def _uris(general_names: Any) -> list[str]:
    return [
        str(general_name["uniformResourceIdentifier"])
        for general_name in general_names
        if general_name.getName() == "uniformResourceIdentifier"
    ]


def _apply_extension(draft: Draft, oid: str, value: bytes) -> None:
    if oid == str(rfc5280.id_ce_basicConstraints):
        constraints = _decode(value, rfc5280.BasicConstraints())
        draft.basic_constraints_present = True
        draft.is_ca = bool(constraints["cA"])
        path_length = constraints["pathLenConstraint"]
        draft.path_length = int(path_length) if path_length.isValue else None
    elif oid == str(rfc5280.id_ce_keyUsage):
        draft.key_usage_present = True
        bits = _decode(value, rfc5280.KeyUsage())
        draft.key_usage = frozenset(
            _KEY_USAGE_NAMES[name]
            for name, position in bits.namedValues.items()
            if position < len(bits) and bits[position]
        )
    elif oid == str(rfc5280.id_ce_extKeyUsage):
        draft.eku_absent = False
        draft.eku_oids = tuple(str(purpose) for purpose in _decode(value, rfc5280.ExtKeyUsageSyntax()))
    elif oid == EXT_OCSP_NOCHECK:
        draft.ocsp_nocheck = True
    elif oid == EXT_PRECERT_POISON:
        draft.precert_poison = True
    elif oid == str(rfc5280.id_ce_nameConstraints):
        draft.name_constraints = True
        _decode(value, rfc5280.NameConstraints())  # present either way; a bad value is a warning
    elif oid == str(rfc5280.id_ce_subjectKeyIdentifier):
        draft.ski_hex = bytes(_decode(value, rfc5280.SubjectKeyIdentifier())).hex()
    elif oid == str(rfc5280.id_ce_authorityKeyIdentifier):
        key_id = _decode(value, rfc5280.AuthorityKeyIdentifier())["keyIdentifier"]
        draft.aki_hex = bytes(key_id).hex() if key_id.isValue else None
    elif oid == str(rfc5280.id_ce_cRLDistributionPoints):
        urls: list[str] = []
        for point in _decode(value, rfc5280.CRLDistributionPoints()):
            name = point["distributionPoint"]
            if name.isValue and name.getName() == "fullName":
                urls.extend(_uris(name["fullName"]))
        draft.crl_urls = tuple(urls)
    elif oid == str(rfc5280.id_pe_authorityInfoAccess):
        access = [
            (str(item["accessMethod"]), _uris([item["accessLocation"]]))
            for item in _decode(value, rfc5280.AuthorityInfoAccessSyntax())
        ]
        draft.ocsp_urls = tuple(url for method, urls in access if method == AIA_OCSP for url in urls)
        draft.ca_issuers_urls = tuple(
            url for method, urls in access if method == AIA_CA_ISSUERS for url in urls
        )
    elif oid == str(rfc5280.id_ce_certificatePolicies):
        policies = _decode(value, rfc5280.CertificatePolicies())
        draft.policy_oids = tuple(str(policy["policyIdentifier"]) for policy in policies)
    elif oid == str(rfc5280.id_ce_subjectAltName):
        names = _decode(value, rfc5280.SubjectAltName())
        draft.san_dns_names = tuple(str(n["dNSName"]) for n in names if n.getName() == "dNSName")
        draft.san_ip_addresses = tuple(
            str(ipaddress.ip_address(bytes(n["iPAddress"]))) for n in names if n.getName() == "iPAddress"
        )


def apply_extensions(draft: Draft, extensions: Any) -> None:
    """Decode each extension on its own: one bad extension costs only its own fields."""
    seen: set[str] = set()
    for extension in extensions:
        oid = str(extension["extnID"])
        if oid in seen:
            draft.warnings.append(f"extension {oid}: duplicate, only the first one is used")
            continue
        seen.add(oid)
        value = bytes(extension["extnValue"])
        draft.attempt(f"extension {oid}", partial(_apply_extension, draft, oid, value))


def decode_certificate(der: bytes) -> Any:
    return _decode(der, rfc5280.Certificate())


def _time(choice: Any) -> datetime:
    moment: datetime = choice.getComponent().asDateTime
    return require_aware(moment, f"time {choice.getComponent()}").astimezone(UTC)


def fill_from_pyasn1(draft: Draft, certificate: Any) -> None:
    """Fill every field the pyasn1 structure yields; each failure is one warning."""
    tbs = certificate["tbsCertificate"]
    version = int(tbs["version"])
    if version not in (0, 1, 2):
        draft.warnings.append(f"version field is {version}, only 0..2 (v1..v3) exist")
    else:
        draft.x509_version = version + 1
    slices = draft.attempt("raw DER slicing", lambda: _der.slice_certificate(draft.der))
    if slices is not None:
        draft.subject_der, draft.issuer_der = slices.subject, slices.issuer
        draft.spki_sha256 = hashlib.sha256(slices.spki).hexdigest()
    draft.subject_rfc4514 = draft.attempt("subject", lambda: _name_text(tbs["subject"], draft.warnings))
    draft.issuer_rfc4514 = draft.attempt("issuer", lambda: _name_text(tbs["issuer"], draft.warnings))
    draft.serial_hex = draft.attempt("serial", lambda: draft.serial_from_int(int(tbs["serialNumber"])))
    validity = tbs["validity"]
    draft.not_before = draft.attempt("notBefore", lambda: _time(validity["notBefore"]))
    draft.not_after = draft.attempt("notAfter", lambda: _time(validity["notAfter"]))
    if tbs["extensions"].isValue:
        apply_extensions(draft, tbs["extensions"])
