"""Build small signed CRLs and certificates with cryptography, for version sequences with exact times."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from ctwatch.evidence.crl import CrlFetch

T0 = datetime(2020, 7, 1, tzinfo=UTC)
URL = "http://crl.example.test/ca.crl"


@dataclass(frozen=True)
class Revoked:
    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags | None = None


@dataclass(frozen=True)
class Ca:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def name(self) -> x509.Name:
        return self.cert.subject

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def self_signed(
    key: CertificateIssuerPrivateKeyTypes,
    name: x509.Name,
    *,
    not_before: datetime = T0 - timedelta(days=365),
    not_after: datetime = T0 + timedelta(days=365),
) -> x509.CertificateBuilder:
    """A self-signed certificate of `key` (serial 1), still to be extended and signed."""
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )


def make_ca(common_name: str = "Test CRL CA") -> Ca:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        self_signed(key, name, not_after=T0 + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Ca(key, cert)


def make_leaf(ca: Ca, serial: int, not_after: datetime) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"leaf {serial}")]))
        .issuer_name(ca.name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(T0 - timedelta(days=30))
        .not_valid_after(not_after)
        .sign(ca.key, hashes.SHA256())
    )


def make_crl(
    ca: Ca,
    this_update: datetime,
    revoked: Sequence[Revoked],
    *,
    crl_number: int,
    next_update: timedelta = timedelta(days=7),
    idp_uri: str | None = None,
) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.name)
        .last_update(this_update)
        .next_update(this_update + next_update)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
    )
    if idp_uri is not None:
        builder = builder.add_extension(
            x509.IssuingDistributionPoint(
                full_name=[x509.UniformResourceIdentifier(idp_uri)],
                relative_name=None,
                only_contains_user_certs=False,
                only_contains_ca_certs=False,
                only_some_reasons=None,
                indirect_crl=False,
                only_contains_attribute_certs=False,
            ),
            critical=True,
        )
    for item in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(item.serial).revocation_date(item.revoked_at)
        if item.reason is not None:
            entry = entry.add_extension(x509.CRLReason(item.reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def staged_fetch(tmp_path: Path, der: bytes, observed_at: datetime, url: str = URL) -> CrlFetch:
    """A successful fetch record for `der`, as ctwatch.sources.crl.fetch_crl would return it."""
    sha256 = hashlib.sha256(der).hexdigest()
    path = tmp_path / f"{sha256}.crl"
    path.write_bytes(der)
    return CrlFetch(
        url=url,
        observed_at=observed_at,
        stamped_with_as_of=True,
        http_status=200,
        not_modified=False,
        path=path,
        size_bytes=len(der),
        sha256=sha256,
        etag=None,
        last_modified=None,
        error=None,
    )
