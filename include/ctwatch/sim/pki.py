"""The simulated CA hierarchy: deterministic keys, really signed CA certificates, leaf templates.

Keys are P-256, derived from the seed, and ECDSA signatures are deterministic (RFC 6979), so the
same scenario and seed give the same bytes. Leaf certificates are not signed one by one: a template
certificate is signed once per issuing certificate and each leaf patches its serial, validity and
host name into the template's bytes. The patched leaves therefore carry the template's signature,
which does not verify over their TBS (a fixed dummy as far as a monitor is concerned); their DER
parses like any certificate's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from ctwatch.sim.scenario import CaSpec, Scenario, slugify

_CURVE_ORDER_P256 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_DV_POLICY = x509.ObjectIdentifier("2.23.140.1.2.1")

# Sentinels written into template leaves and found again in the DER; patched values have the same length.
SERIAL_SENTINEL = b"\x5aSIMSERIALSENTIN"  # 16 content bytes, positive INTEGER
NOT_BEFORE_SENTINEL = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)  # UTCTime "010203040506Z"
NOT_AFTER_SENTINEL = datetime(2002, 3, 4, 5, 6, 7, tzinfo=UTC)  # UTCTime "020304050607Z"
HOST_SENTINEL = "QQQQQQQQ"  # 8 digits of the leaf number in the DNS name
HOST_PREFIX = "w"


def derive_key(seed: int, purpose: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 key determined by (seed, purpose)."""
    digest = hashlib.sha256(f"ctwatch-sim/{seed}/{purpose}".encode()).digest()
    scalar = int.from_bytes(digest, "big") % (_CURVE_ORDER_P256 - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def spki_der(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _serial(seed: int, cert_id: str) -> int:
    digest = hashlib.sha256(f"ctwatch-sim/{seed}/serial/{cert_id}".encode()).digest()
    return int.from_bytes(digest[:16], "big") >> 1 | 1 << 120  # positive, 16 bytes


@dataclass(frozen=True, slots=True)
class CaCert:
    """One CA certificate of the world."""

    cert_id: str  # the scenario id; re-issues are "<id>.r1", "<id>.r2"
    spec: CaSpec
    der: bytes
    key_group: str  # id of the CA whose key it carries (a cross-sign carries its subject's key)
    chain_ids: tuple[str, ...]  # this certificate, then its issuers up to a root (log extra_data order)
    reissue_of: str | None = None
    # Subordinate CA profile (pathlen 0, EKUs, name constraints): intermediates, their re-issues and
    # cross-signs of intermediates; roots and cross-signs of roots have none.
    sub_ca_profile: bool = False

    @property
    def der_sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    @property
    def kind(self) -> str:
        if self.spec.parent is None:
            return "root"
        if self.spec.cross_of is not None:
            return "cross_sign"
        return "reissue" if self.reissue_of else "intermediate"


def _hosts(scenario: Scenario, ca: CaSpec) -> tuple[str, str, str]:
    """(CRL, OCSP, caIssuers) URLs published by `ca` for the certificates it issues."""
    slug = scenario.owner_slug(ca.host_slug_owner)
    return (
        f"http://crl.{slug}.example/{ca.id}.crl",
        f"http://ocsp.{slug}.example/",
        f"http://aia.{slug}.example/{ca.id}.der",
    )


def _name(ca: CaSpec) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ca.host_slug_owner),
            x509.NameAttribute(NameOID.COMMON_NAME, ca.common_name),
        ]
    )


def _issuer_extensions(
    builder: x509.CertificateBuilder, scenario: Scenario, issuer: CaSpec
) -> x509.CertificateBuilder:
    crl_url, ocsp_url, aia_url = _hosts(scenario, issuer)
    return builder.add_extension(
        x509.CRLDistributionPoints(
            [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)]
        ),
        critical=False,
    ).add_extension(
        x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
                ),
                x509.AccessDescription(
                    AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(aia_url)
                ),
            ]
        ),
        critical=False,
    )


class Hierarchy:
    """Keys and certificates of every CA in a scenario, built in file order."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.certs: dict[str, CaCert] = {}
        self._keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        for spec in scenario.cas:
            self._add(spec)

    def key(self, key_group: str) -> ec.EllipticCurvePrivateKey:
        if key_group not in self._keys:
            self._keys[key_group] = derive_key(self.seed, f"ca/{key_group}")
        return self._keys[key_group]

    def not_before(self, cert: CaCert) -> datetime:
        """The notBefore of a CA certificate: its spec's, or the date of its re-issue."""
        if cert.reissue_of is None:
            return cert.spec.not_before
        number = int(cert.cert_id.rsplit(".r", 1)[1])
        return self.scenario.ca(cert.reissue_of).reissued_at[number - 1]

    def _add(self, spec: CaSpec) -> None:
        key_group = spec.cross_of or spec.id
        subject_spec = self.scenario.ca(spec.cross_of) if spec.cross_of else spec
        issuer_spec = self.scenario.ca(spec.parent) if spec.parent else spec
        chain = (spec.id, *self.certs[spec.parent].chain_ids) if spec.parent else (spec.id,)
        reissues = [(f"{spec.id}.r{n}", at, spec.id) for n, at in enumerate(spec.reissued_at, start=1)]
        dates: list[tuple[str, datetime, str | None]] = [(spec.id, spec.not_before, None), *reissues]
        sub_ca_profile = subject_spec.parent is not None
        for cert_id, not_before, reissue_of in dates:
            der = self._sign_ca(spec, subject_spec, issuer_spec, cert_id, not_before)
            chain_ids = (cert_id, *chain[1:])
            self.certs[cert_id] = CaCert(cert_id, spec, der, key_group, chain_ids, reissue_of, sub_ca_profile)

    def _sign_ca(
        self, spec: CaSpec, subject_spec: CaSpec, issuer_spec: CaSpec, cert_id: str, not_before: datetime
    ) -> bytes:
        public_key = self.key(spec.cross_of or spec.id).public_key()
        signer = self.key(self.certs[spec.parent].key_group if spec.parent else spec.id)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(subject_spec))
            .issuer_name(_name(self._subject_spec_of(issuer_spec)))
            .public_key(public_key)
            .serial_number(_serial(self.seed, cert_id))
            .not_valid_before(not_before)
            .not_valid_after(spec.not_after)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
        )
        if subject_spec.parent is None:  # a root, or a cross-sign of a root
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        else:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            if spec.ocsp_signing:
                usages.append(ExtendedKeyUsageOID.OCSP_SIGNING)
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            if spec.ocsp_nocheck:
                builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
            if spec.permitted_dns:
                builder = builder.add_extension(
                    x509.NameConstraints([x509.DNSName(d) for d in spec.permitted_dns], None), critical=True
                )
            builder = builder.add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(_DV_POLICY, None)]), critical=False
            )
        if spec.parent is not None:
            issuer_key = self.key(self.certs[spec.parent].key_group).public_key()
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key), critical=False
            )
            builder = _issuer_extensions(builder, self.scenario, issuer_spec)
        return builder.sign(signer, hashes.SHA256(), ecdsa_deterministic=True).public_bytes(
            serialization.Encoding.DER
        )

    def _subject_spec_of(self, spec: CaSpec) -> CaSpec:
        return self.scenario.ca(spec.cross_of) if spec.cross_of else spec

    def leaf_domain(self, spec: CaSpec) -> str:
        base = (
            spec.permitted_dns[0]
            if spec.permitted_dns
            else f"{self.scenario.owner_slug(spec.host_slug_owner)}.example"
        )
        return f"{slugify(spec.id)}.{base}"

    def leaf_template(self, issuer_cert_id: str, *, precert: bool, poison: bool = True) -> bytes:
        """A leaf (or precertificate) DER carrying the sentinels, signed once by the issuer's key.

        With `precert` and not `poison`: the same certificate without the poison extension, whose TBS
        is what an RFC 6962 precert_entry carries."""
        issuer = self.certs[issuer_cert_id]
        host = f"{HOST_PREFIX}{HOST_SENTINEL}.{self.leaf_domain(issuer.spec)}"
        leaf_key = self.key("leaf")
        issuer_key = self.key(issuer.key_group)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(_name(issuer.spec))
            .public_key(leaf_key.public_key())
            .serial_number(int.from_bytes(SERIAL_SENTINEL, "big"))
            .not_valid_before(NOT_BEFORE_SENTINEL)
            .not_valid_after(NOT_AFTER_SENTINEL)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            )
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(_DV_POLICY, None)]), critical=False
            )
        )
        builder = _issuer_extensions(builder, self.scenario, issuer.spec)
        if precert and poison:
            builder = builder.add_extension(x509.PrecertPoison(), critical=True)
        cert = builder.sign(issuer_key, hashes.SHA256(), ecdsa_deterministic=True)
        return cert.public_bytes(serialization.Encoding.DER)

    def issuer_key_hash(self, issuer_cert_id: str) -> bytes:
        """SHA-256 of the issuer's SubjectPublicKeyInfo (RFC 6962 PreCert.issuer_key_hash)."""
        return hashlib.sha256(spki_der(self.key(self.certs[issuer_cert_id].key_group))).digest()
