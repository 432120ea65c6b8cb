"""CRL signature schemes and their verification over a digest computed while the TBS streamed."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa, utils
from pyasn1.codec.der import decoder
from pyasn1_modules import rfc4055

from ctwatch.crl._der import OID, CrlFormatError, children, decode_oid, tlv

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
# signature algorithm OID -> (key family, hash name)
_SCHEMES = {
    "1.2.840.113549.1.1.5": ("rsa_pkcs1", "sha1"),
    "1.2.840.113549.1.1.14": ("rsa_pkcs1", "sha224"),
    "1.2.840.113549.1.1.11": ("rsa_pkcs1", "sha256"),
    "1.2.840.113549.1.1.12": ("rsa_pkcs1", "sha384"),
    "1.2.840.113549.1.1.13": ("rsa_pkcs1", "sha512"),
    "1.2.840.10045.4.1": ("ecdsa", "sha1"),
    "1.2.840.10045.4.3.1": ("ecdsa", "sha224"),
    "1.2.840.10045.4.3.2": ("ecdsa", "sha256"),
    "1.2.840.10045.4.3.3": ("ecdsa", "sha384"),
    "1.2.840.10045.4.3.4": ("ecdsa", "sha512"),
    "1.2.840.10040.4.3": ("dsa", "sha1"),
    "2.16.840.1.101.3.4.3.1": ("dsa", "sha224"),
    "2.16.840.1.101.3.4.3.2": ("dsa", "sha256"),
}
RSASSA_PSS = "1.2.840.113549.1.1.10"
_HASH_OIDS = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}


@dataclass(frozen=True, slots=True)
class SignatureScheme:
    """How to check a signature: key family, digest, and the PSS parameters when PSS."""

    algorithm_oid: str
    family: str  # 'rsa_pkcs1', 'rsa_pss', 'ecdsa', 'dsa'
    hash_name: str  # hashlib name of the digest the TBS is hashed with
    pss_mgf1_hash_name: str | None = None
    pss_salt_length: int | None = None


def algorithm_oid(algorithm_identifier: bytes) -> str:
    """The OID of a DER AlgorithmIdentifier (full TLV)."""
    _, start, end = tlv(algorithm_identifier, 0, len(algorithm_identifier), "AlgorithmIdentifier")
    parts = children(algorithm_identifier, start, end, "AlgorithmIdentifier")
    if not parts or parts[0][0] != OID:
        raise CrlFormatError("AlgorithmIdentifier has no OID")
    return decode_oid(algorithm_identifier[parts[0][1] : parts[0][2]])


def signature_scheme(algorithm_identifier: bytes) -> SignatureScheme | str:
    """The scheme of a DER AlgorithmIdentifier, or the reason it cannot be checked over a stream."""
    oid = algorithm_oid(algorithm_identifier)
    if oid in _SCHEMES:
        family, hash_name = _SCHEMES[oid]
        return SignatureScheme(oid, family, hash_name)
    if oid != RSASSA_PSS:
        return f"signature algorithm {oid} is not supported for streamed verification"
    try:
        _, start, end = tlv(algorithm_identifier, 0, len(algorithm_identifier), "AlgorithmIdentifier")
        parts = children(algorithm_identifier, start, end, "AlgorithmIdentifier")
        if len(parts) < 2:
            return "RSASSA-PSS without parameters"
        # the parameters' TLV starts where the OID's content ends
        raw = algorithm_identifier[parts[0][2] : parts[1][2]]
        decoded, _ = decoder.decode(raw, asn1Spec=rfc4055.RSASSA_PSS_params())
        pss_hash_name = _HASH_OIDS.get(str(decoded["hashAlgorithm"]["algorithm"]))
        mgf_params, _ = decoder.decode(
            bytes(decoded["maskGenAlgorithm"]["parameters"]), asn1Spec=rfc4055.rfc5280.AlgorithmIdentifier()
        )
        mgf_hash_name = _HASH_OIDS.get(str(mgf_params["algorithm"]))
        salt_length = int(decoded["saltLength"])
    except Exception as exc:  # any decoder failure of the parameters is data, not a crash
        return f"RSASSA-PSS parameters not decodable: {exc}"
    if pss_hash_name is None or mgf_hash_name is None:
        return "RSASSA-PSS with an unsupported hash"
    return SignatureScheme(oid, "rsa_pss", pss_hash_name, mgf_hash_name, salt_length)


def verify_digest(
    scheme: SignatureScheme, digest: bytes, signature: bytes, issuer: x509.Certificate
) -> tuple[bool | None, str | None]:
    """(True, None) valid; (False, why) invalid; (None, why) cannot be checked with this issuer."""
    try:
        key = issuer.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        return None, f"issuer public key not usable: {exc}"
    digest_algorithm = _HASHES[scheme.hash_name]()
    prehashed = utils.Prehashed(digest_algorithm)
    try:
        if scheme.family in ("rsa_pkcs1", "rsa_pss"):
            if not isinstance(key, rsa.RSAPublicKey):
                return None, f"issuer key is {type(key).__name__}, the CRL is signed with RSA"
            if scheme.family == "rsa_pkcs1":
                key.verify(signature, digest, padding.PKCS1v15(), prehashed)
            else:
                mgf_hash = _HASHES[scheme.pss_mgf1_hash_name or "sha1"]()
                pss = padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=scheme.pss_salt_length or 0)
                key.verify(signature, digest, pss, prehashed)
        elif scheme.family == "ecdsa":
            if not isinstance(key, ec.EllipticCurvePublicKey):
                return None, f"issuer key is {type(key).__name__}, the CRL is signed with ECDSA"
            key.verify(signature, digest, ec.ECDSA(prehashed))
        else:
            if not isinstance(key, dsa.DSAPublicKey):
                return None, f"issuer key is {type(key).__name__}, the CRL is signed with DSA"
            key.verify(signature, digest, prehashed)
    except InvalidSignature:
        return False, "signature does not verify with the issuer's key"
    except (ValueError, UnsupportedAlgorithm) as exc:
        return None, f"cannot verify: {exc}"
    return True, None
