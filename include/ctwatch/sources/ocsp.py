"""OCSP (RFC 6960): requests with SHA-1 or SHA-256 CertIDs over GET or POST, the response signature
verified against the issuer or a delegated responder, and the answer as a stamped sighting.

A delegated responder must be issued by the certificate's issuer and carry id-kp-OCSPSigning. A
responder that is itself a CA certificate is the danger of the July 2020 incident (whoever holds
its key can answer "good" for itself and its siblings): such responses are flagged
(`responder_is_ca`), as is a responder without id-pkix-ocsp-nocheck.

POST and GET both go through the shared client (ctwatch.sources.http) with its politeness and
retries; the as-of header the client carries reaches a simulator either way.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from ctwatch.evidence.revocation import (
    RecordError,
    Sighting,
    SightingStatus,
    Snapshot,
    SourceName,
    StampKind,
    sha256_hex,
)
from ctwatch.sources.http import FetchError, HttpClient

OBSERVER = "ctwatch"
OCSP_NOCHECK = x509.ObjectIdentifier("1.3.6.1.5.5.7.48.1.5")
_HASHES: dict[str, hashes.HashAlgorithm] = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256()}  # noqa: S303 - RFC 6960 CertID
# RFC 6960 Appendix A.1: GET only for requests under 255 bytes after encoding, larger ones by POST
MAX_GET_REQUEST_BYTES = 255
OCSP_REQUEST_TYPE = "application/ocsp-request"
# cryptography decodes some parts of a response (the responder name, included certificates, their
# keys and extensions) only when they are read: these are what a malformed part raises then (a
# BIT STRING name attribute other than x500UniqueIdentifier: TypeError).
_LAZY_DECODE_ERRORS = (
    ValueError,
    TypeError,
    UnsupportedAlgorithm,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


class Method(StrEnum):
    GET = "GET"
    POST = "POST"


@dataclass(frozen=True, slots=True)
class OcspAnswer:
    """One OCSP exchange, checked. `error` set: no usable answer (nothing else is trustworthy)."""

    der_sha256: str  # of the certificate asked about
    url: str
    method: Method
    cert_id_hash: str  # 'sha1' | 'sha256'
    response_sha256: str | None = None
    response_status: str | None = None  # OCSPResponseStatus name, e.g. 'successful', 'unauthorized'
    cert_status: SightingStatus | None = None
    revocation_time: datetime | None = None
    revocation_reason: str | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    produced_at: datetime | None = None
    signer: str | None = None  # 'issuer' | 'delegated'
    signer_der_sha256: str | None = None
    signature_valid: bool | None = None
    findings: tuple[str, ...] = field(default=())
    error: str | None = None


def build_request(cert: x509.Certificate, issuer: x509.Certificate, cert_id_hash: str) -> bytes:
    """DER OCSPRequest for one certificate with a SHA-1 or SHA-256 CertID."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, _HASHES[cert_id_hash])
    return builder.build().public_bytes(serialization.Encoding.DER)


def _encoded(request_der: bytes) -> str:
    """The request as a GET sends it: URL-encoded base64 of its DER."""
    return urllib.parse.quote(base64.b64encode(request_der).decode("ascii"), safe="")


def get_url(responder_url: str, request_der: bytes) -> str:
    """RFC 6960 A.1 GET URL: the responder URL, '/', then the URL-encoded base64 of the request."""
    return responder_url.rstrip("/") + "/" + _encoded(request_der)


def request_method(request_der: bytes, wanted: Method) -> Method:
    """`wanted`, except that a request too large for GET (`MAX_GET_REQUEST_BYTES`) goes by POST."""
    if wanted is Method.GET and len(_encoded(request_der)) >= MAX_GET_REQUEST_BYTES:
        return Method.POST
    return wanted


def responder_findings(responder: x509.Certificate) -> tuple[str, ...]:
    """Profile problems of a delegated responder certificate."""
    findings: list[str] = []
    try:
        if responder.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            findings.append("responder_is_ca")
    except x509.ExtensionNotFound:
        pass
    try:
        responder.extensions.get_extension_for_oid(OCSP_NOCHECK)
    except x509.ExtensionNotFound:
        findings.append("responder_without_nocheck")
    return tuple(findings)


def _has_ocsp_signing(cert: x509.Certificate) -> bool:
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in usages


def _key_hash(cert: x509.Certificate) -> bytes:
    # SHA-1 over the subjectPublicKey BIT STRING: the ResponderID byKey form (RFC 6960 4.2.1)
    return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest


def _verify(key: object, response: ocsp.OCSPResponse) -> bool | None:
    """True/False when checked; None when the key or algorithm is one this code does not check."""
    data, signature = response.tbs_response_bytes, response.signature
    algorithm = response.signature_hash_algorithm
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        else:
            return None
    except InvalidSignature:
        return False
    return True


def _is_responder(cert: x509.Certificate, response: ocsp.OCSPResponse) -> bool:
    if response.responder_key_hash is not None:
        return _key_hash(cert) == response.responder_key_hash
    return response.responder_name == cert.subject


def check_response(
    body: bytes,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    url: str,
    method: Method,
    cert_id_hash: str,
) -> OcspAnswer:
    """Parse and verify an OCSP response for `cert` (issued by `issuer`). Never raises."""
    der_sha256 = cert.fingerprint(hashes.SHA256()).hex()
    base = {"der_sha256": der_sha256, "url": url, "method": method, "cert_id_hash": cert_id_hash}
    response_sha256 = sha256_hex(body)
    try:
        response = ocsp.load_der_ocsp_response(body)
    except ValueError as exc:
        return OcspAnswer(**base, response_sha256=response_sha256, error=f"not an OCSP response: {exc}")  # type: ignore[arg-type]
    try:
        return _check_loaded(response, cert, issuer, base, response_sha256)
    except _LAZY_DECODE_ERRORS as exc:
        return OcspAnswer(**base, response_sha256=response_sha256, error=f"malformed OCSP response: {exc}")  # type: ignore[arg-type]


def _check_loaded(
    response: ocsp.OCSPResponse,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    base: Mapping[str, object],
    response_sha256: str,
) -> OcspAnswer:
    status_name = response.response_status.name.lower()
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return OcspAnswer(
            **base,  # type: ignore[arg-type]
            response_sha256=response_sha256,
            response_status=status_name,
            error=f"responder answered {status_name}",
        )
    findings: list[str] = []
    if _is_responder(issuer, response):
        signer, signer_cert = "issuer", issuer
    else:
        delegated = [c for c in response.certificates if _is_responder(c, response)]
        if not delegated:
            return OcspAnswer(
                **base,  # type: ignore[arg-type]
                response_sha256=response_sha256,
                response_status=status_name,
                signature_valid=False,
                error="signed neither by the issuer nor by a responder certificate included in the response",
            )
        signer, signer_cert = "delegated", delegated[0]
        try:
            signer_cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            findings.append("responder_not_issued_by_issuer")
        if not _has_ocsp_signing(signer_cert):
            findings.append("responder_without_ocsp_signing_eku")
        findings.extend(responder_findings(signer_cert))
    signature_ok = _verify(signer_cert.public_key(), response)
    answer_fields = {
        **base,
        "response_sha256": response_sha256,
        "response_status": status_name,
        "produced_at": response.produced_at_utc,
        "signer": signer,
        "signer_der_sha256": signer_cert.fingerprint(hashes.SHA256()).hex(),
        "findings": tuple(findings),
    }
    authorised = signature_ok is True and not {
        "responder_not_issued_by_issuer",
        "responder_without_ocsp_signing_eku",
    } & set(findings)
    if not authorised:
        reason = "signature does not verify" if signature_ok is False else "signature not checkable"
        if signature_ok:
            reason = "responder not authorised by the issuer"
        return OcspAnswer(**answer_fields, signature_valid=signature_ok, error=reason)  # type: ignore[arg-type]
    single = _single_response(response, cert, issuer)
    if single is None:
        return OcspAnswer(
            **answer_fields,  # type: ignore[arg-type]
            signature_valid=True,
            error="response has no answer for this certificate's CertID",
        )
    status = {
        ocsp.OCSPCertStatus.GOOD: SightingStatus.GOOD,
        ocsp.OCSPCertStatus.REVOKED: SightingStatus.REVOKED,
        ocsp.OCSPCertStatus.UNKNOWN: SightingStatus.UNKNOWN,
    }[single.certificate_status]
    reason_flag = single.revocation_reason
    return OcspAnswer(
        **answer_fields,  # type: ignore[arg-type]
        signature_valid=True,
        cert_status=status,
        revocation_time=single.revocation_time_utc if status is SightingStatus.REVOKED else None,
        revocation_reason=_camel(reason_flag.name) if reason_flag is not None else None,
        this_update=single.this_update_utc,
        next_update=single.next_update_utc,
    )


def _camel(name: str) -> str:
    """cryptography's ReasonFlags member name ('key_compromise') -> RFC 5280 name ('keyCompromise')."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _single_response(
    response: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate
) -> ocsp.OCSPSingleResponse | None:
    for single in response.responses:
        if single.serial_number != cert.serial_number:
            continue
        algorithm = single.hash_algorithm
        name_hash = hashes.Hash(algorithm)
        name_hash.update(issuer.subject.public_bytes())
        if name_hash.finalize() != single.issuer_name_hash:
            continue
        if single.issuer_key_hash == _key_bits_hash(issuer, algorithm):
            return single
    return None


def _key_bits_hash(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    # CertID.issuerKeyHash: the subjectPublicKey BIT STRING hashed with the CertID's algorithm; a
    # request naming the issuer as its own issuer computes exactly that
    request = ocsp.OCSPRequestBuilder().add_certificate(issuer, issuer, algorithm).build()
    return request.issuer_key_hash


def query(
    client: HttpClient,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    responder_url: str,
    *,
    method: Method = Method.POST,
    cert_id_hash: str = "sha1",
) -> OcspAnswer:
    """Ask `responder_url` about `cert` (by POST when the request is too large for GET); every
    failure comes back as an answer with `error`."""
    request_der = build_request(cert, issuer, cert_id_hash)
    method = request_method(request_der, method)
    der_sha256 = cert.fingerprint(hashes.SHA256()).hex()
    try:
        if method is Method.GET:
            url = get_url(responder_url, request_der)
            body = client.get(url, _raw)
        else:
            body = client.post(responder_url, request_der, _raw, content_type=OCSP_REQUEST_TYPE)
    except FetchError as exc:
        return OcspAnswer(
            der_sha256=der_sha256, url=responder_url, method=method, cert_id_hash=cert_id_hash, error=str(exc)
        )
    return check_response(body, cert, issuer, url=responder_url, method=method, cert_id_hash=cert_id_hash)


def _raw(body: bytes) -> bytes:
    return body


def answer_snapshot(answer: OcspAnswer, *, observed_at: datetime, stamp_kind: StampKind) -> Snapshot:
    """An OCSP answer as a one-sighting snapshot (or a snapshot with its error)."""
    errors: tuple[RecordError, ...] = ()
    sightings: tuple[Sighting, ...] = ()
    if answer.error is not None or answer.cert_status is None:
        errors = (RecordError(answer.der_sha256, answer.error or "no status"),)
    else:
        sightings = (
            Sighting(
                status=answer.cert_status,
                der_sha256=answer.der_sha256,
                revoked_at_claimed=answer.revocation_time,
                reason=answer.revocation_reason,
                this_update=answer.this_update,
                next_update=answer.next_update,
                record_ref=answer.url,
                detail={
                    "method": str(answer.method),
                    "cert_id_hash": answer.cert_id_hash,
                    "signer": answer.signer,
                    "signer_der_sha256": answer.signer_der_sha256,
                    "produced_at": answer.produced_at.isoformat() if answer.produced_at else None,
                    "findings": list(answer.findings),
                },
            ),
        )
    return Snapshot(
        source=SourceName.OCSP,
        observer=OBSERVER,
        observed_at=observed_at,
        stamp_kind=stamp_kind,
        location=answer.url,
        content_sha256=answer.response_sha256 or sha256_hex(b""),
        lists_all_revoked=False,
        sightings=sightings,
        errors=errors,
    )
