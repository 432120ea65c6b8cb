"""The fast path: fields from cryptography's parsed certificate."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.x509.oid import AuthorityInformationAccessOID

from ctwatch.x509 import _der, _pyasn1
from ctwatch.x509._draft import Draft, describe

_KEY_USAGE_BITS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
)
_KEY_AGREEMENT_ONLY_BITS = ("encipher_only", "decipher_only")  # cryptography raises unless key_agreement


def _key_usage_names(usage: x509.KeyUsage) -> frozenset[str]:
    names = {name for name in _KEY_USAGE_BITS if getattr(usage, name)}
    if usage.key_agreement:
        names.update(name for name in _KEY_AGREEMENT_ONLY_BITS if getattr(usage, name))
    return frozenset(names)


def _uris(names: list[x509.GeneralName] | None) -> list[str]:
    return [name.value for name in names or () if isinstance(name, x509.UniformResourceIdentifier)]


def _apply_extensions(draft: Draft, extensions: x509.Extensions) -> None:
    for extension in extensions:
        value = extension.value
        if isinstance(value, x509.BasicConstraints):
            draft.basic_constraints_present = True
            draft.is_ca = value.ca
            draft.path_length = value.path_length
        elif isinstance(value, x509.KeyUsage):
            draft.key_usage_present = True
            draft.key_usage = _key_usage_names(value)
        elif isinstance(value, x509.ExtendedKeyUsage):
            draft.eku_absent = False
            draft.eku_oids = tuple(purpose.dotted_string for purpose in value)
        elif isinstance(value, x509.OCSPNoCheck):
            draft.ocsp_nocheck = True
        elif isinstance(value, x509.PrecertPoison):
            draft.precert_poison = True
        elif isinstance(value, x509.NameConstraints):
            draft.name_constraints = True
        elif isinstance(value, x509.SubjectKeyIdentifier):
            draft.ski_hex = value.digest.hex()
        elif isinstance(value, x509.AuthorityKeyIdentifier):
            draft.aki_hex = value.key_identifier.hex() if value.key_identifier is not None else None
        elif isinstance(value, x509.CRLDistributionPoints):
            draft.crl_urls = tuple(url for point in value for url in _uris(point.full_name))
        elif isinstance(value, x509.AuthorityInformationAccess):
            draft.ocsp_urls = tuple(
                url
                for access in value
                if access.access_method == AuthorityInformationAccessOID.OCSP
                for url in _uris([access.access_location])
            )
            draft.ca_issuers_urls = tuple(
                url
                for access in value
                if access.access_method == AuthorityInformationAccessOID.CA_ISSUERS
                for url in _uris([access.access_location])
            )
        elif isinstance(value, x509.CertificatePolicies):
            draft.policy_oids = tuple(policy.policy_identifier.dotted_string for policy in value)
        elif isinstance(value, x509.SubjectAlternativeName):
            draft.san_dns_names = tuple(value.get_values_for_type(x509.DNSName))
            draft.san_ip_addresses = tuple(str(ip) for ip in value.get_values_for_type(x509.IPAddress))


def _name_text(draft: Draft, what: str, name: Callable[[], x509.Name], raw: bytes | None) -> str | None:
    """cryptography decodes names lazily and may refuse one; pyasn1 then builds the text."""
    try:
        return name().rfc4514_string()
    except Exception as exc:  # lazily decoded attribute values raise ValueError and more
        draft.warnings.append(f"{what}: cryptography: {describe(exc)}; text built by pyasn1")
    if raw is None:
        return None
    return draft.attempt(f"{what} (pyasn1)", lambda: _pyasn1.name_to_rfc4514(raw, draft.warnings))


def _self_signature_verifies(draft: Draft, cert: x509.Certificate) -> bool | None:
    """Check the signature with the certificate's own key.

    Done by hand rather than with verify_directly_issued_by(), which refuses SHA-1 and MD5:
    many old roots are signed that way and must still be recognised as self-signed.
    """
    try:
        key = cert.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            parameters = cert.signature_algorithm_parameters  # None for md5WithRSAEncryption
            padding = parameters if isinstance(parameters, rsa_padding.PSS) else rsa_padding.PKCS1v15()
            hash_algorithm = cert.signature_hash_algorithm
            if hash_algorithm is None:
                raise TypeError("RSA signature without a hash algorithm")
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding, hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            ecdsa = cert.signature_algorithm_parameters
            if not isinstance(ecdsa, ec.ECDSA):
                raise TypeError(f"EC key with signature parameters {ecdsa!r}")
            key.verify(cert.signature, cert.tbs_certificate_bytes, ecdsa)
        elif isinstance(key, dsa.DSAPublicKey):
            hash_algorithm = cert.signature_hash_algorithm
            if hash_algorithm is None:
                raise TypeError("DSA signature without a hash algorithm")
            key.verify(cert.signature, cert.tbs_certificate_bytes, hash_algorithm)
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            raise TypeError(f"unsupported key type {type(key).__name__}")
    except InvalidSignature:
        return False
    except Exception as exc:  # unknown key or hash (GOST, MD2), mismatched algorithms: cannot tell
        draft.warnings.append(f"self-signature not checked: {describe(exc)}")
        return None
    return True


def fill_from_cryptography(draft: Draft, cert: x509.Certificate) -> None:
    slices = draft.attempt("raw DER slicing", lambda: _der.slice_certificate(draft.der))
    if slices is not None:
        draft.subject_der, draft.issuer_der = slices.subject, slices.issuer
        draft.spki_sha256 = hashlib.sha256(slices.spki).hexdigest()
    draft.subject_rfc4514 = _name_text(draft, "subject", lambda: cert.subject, draft.subject_der)
    draft.issuer_rfc4514 = _name_text(draft, "issuer", lambda: cert.issuer, draft.issuer_der)
    draft.serial_hex = draft.serial_from_int(cert.serial_number)
    draft.x509_version = cert.version.value + 1
    draft.not_before = cert.not_valid_before_utc
    draft.not_after = cert.not_valid_after_utc
    try:
        extensions = cert.extensions
    except Exception as exc:  # cryptography parses all extensions at once, lazily
        draft.warnings.append(f"extensions: cryptography: {describe(exc)}; decoded one by one by pyasn1")
        certificate = draft.attempt("extensions (pyasn1)", lambda: _pyasn1.decode_certificate(draft.der))
        if certificate is not None and certificate["tbsCertificate"]["extensions"].isValue:
            _pyasn1.apply_extensions(draft, certificate["tbsCertificate"]["extensions"])
    else:
        _apply_extensions(draft, extensions)
    if draft.self_issued:
        draft.self_signed = _self_signature_verifies(draft, cert)
