"""Typed records produced by the certificate analyser."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CertKind(StrEnum):
    """What a certificate is, in the sense of pkilint's type determiner."""

    ROOT = "root"  # self-signed CA
    SUB_CA = "sub_ca"
    TC_SUB_CA = "tc_sub_ca"  # technically constrained subordinate CA
    PRECERT_SIGNING_CA = "precert_signing_ca"
    OCSP_RESPONDER = "ocsp_responder"
    TLS_LEAF = "tls_leaf"
    OTHER_LEAF = "other_leaf"

    @property
    def is_ca(self) -> bool:
        return self in CA_KINDS


CA_KINDS = frozenset({CertKind.ROOT, CertKind.SUB_CA, CertKind.TC_SUB_CA, CertKind.PRECERT_SIGNING_CA})


@dataclass(frozen=True, slots=True)
class ParsedCert:
    """Every field ctwatch needs from one certificate.

    Hex strings are lower case without separators. Times are timezone-aware UTC.
    A field that could not be decoded is None (or empty) and a warning says why.
    """

    der: bytes
    der_sha256: str
    subject_rfc4514: str | None
    subject_der: bytes | None
    issuer_rfc4514: str | None
    issuer_der: bytes | None
    serial_hex: str | None
    not_before: datetime | None
    not_after: datetime | None
    is_ca: bool
    path_length: int | None
    key_usage: frozenset[str]  # cryptography's attribute names, e.g. "key_cert_sign"
    key_usage_present: bool
    eku_oids: tuple[str, ...]
    eku_absent: bool
    ocsp_nocheck: bool
    name_constraints: bool
    ski_hex: str | None
    aki_hex: str | None
    spki_sha256: str | None
    crl_urls: tuple[str, ...]
    ocsp_urls: tuple[str, ...]
    ca_issuers_urls: tuple[str, ...]
    policy_oids: tuple[str, ...]
    precert_poison: bool
    self_issued: bool
    self_signed: bool | None  # None when the signature could not be checked
    kind: CertKind
    parser: str  # "cryptography" or "pyasn1"
    warnings: tuple[str, ...] = field(default=())
    # subjectAltName entries that make a certificate usable for TLS (classification, leaf metadata)
    san_dns_names: tuple[str, ...] = field(default=())
    san_ip_addresses: tuple[str, ...] = field(default=())
    x509_version: int | None = None  # 1..3 as people say it (the DER field holds 0..2)


@dataclass(frozen=True, slots=True)
class CertError:
    """Bytes that are no certificate: the reason is kept, never raised."""

    error: str
    input_sha256: str
    input_length: int
