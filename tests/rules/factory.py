"""Build ParsedCert values for unit tests: a plain sub-CA changed with dataclasses.replace, or a real,
signed CA certificate when its bytes, names and key must relate to others exactly."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ctwatch.x509 import analyse_der
from ctwatch.x509.model import CertKind, ParsedCert
from ctwatch.x509.oids import EKU_CLIENT_AUTH, EKU_OCSP_SIGNING, EKU_SERVER_AUTH

OCSP_SIGNING = EKU_OCSP_SIGNING

_BASE = ParsedCert(
    der=b"\x30\x00",
    der_sha256="ab" * 32,
    subject_rfc4514="CN=Test Sub CA",
    subject_der=None,
    issuer_rfc4514="CN=Test Root",
    issuer_der=None,
    serial_hex="01",
    not_before=datetime(2020, 1, 1, tzinfo=UTC),
    not_after=datetime(2030, 1, 1, tzinfo=UTC),
    is_ca=True,
    path_length=0,
    key_usage=frozenset({"key_cert_sign", "crl_sign"}),
    key_usage_present=True,
    eku_oids=(EKU_SERVER_AUTH, EKU_CLIENT_AUTH),
    eku_absent=False,
    ocsp_nocheck=False,
    name_constraints=False,
    ski_hex=None,
    aki_hex=None,
    spki_sha256=None,
    crl_urls=(),
    ocsp_urls=(),
    ca_issuers_urls=(),
    policy_oids=(),
    precert_poison=False,
    self_issued=False,
    self_signed=False,
    kind=CertKind.SUB_CA,
    parser="cryptography",
)


def make_cert(*, ocsp_signing: bool = False, **changes: Any) -> ParsedCert:
    """A sub-CA certificate; `ocsp_signing=True` adds id-kp-OCSPSigning to the EKU list."""
    if ocsp_signing:
        changes.setdefault("eku_oids", (EKU_SERVER_AUTH, EKU_CLIENT_AUTH, EKU_OCSP_SIGNING))
    return dataclasses.replace(_BASE, **changes)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def ca_certificate(
    subject: str,
    subject_key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: datetime,
    *,
    path_length: int | None = None,
    ocsp_signing: bool = False,
) -> ParsedCert:
    """A real CA certificate (CN-only names, 10 years), signed by `issuer_key` and analysed;
    `ocsp_signing` adds serverAuth, clientAuth and id-kp-OCSPSigning."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
    )
    if ocsp_signing:
        usages = [
            ExtendedKeyUsageOID.SERVER_AUTH,
            ExtendedKeyUsageOID.CLIENT_AUTH,
            ExtendedKeyUsageOID.OCSP_SIGNING,
        ]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    parsed = analyse_der(builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    assert isinstance(parsed, ParsedCert)
    return parsed
