"""The simulated OCSP responder (RFC 6960): the status of a certificate as of the request, signed
by its issuer or the issuer's delegated responder.

Responses are encoded here (RFC 6960 §4.2.1) because cryptography's builder stamps producedAt with
the real clock, and an answer as of a past date must say that date.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

from ctwatch.sim.http_messages import HttpError, Response
from ctwatch.sim.revocations import Revocation, RevocationWorld

_ECDSA = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
_OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"
_OID_OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1"
_OID_OCSP_NONCE = "1.3.6.1.5.5.7.48.1.2"
_HASH_OIDS = {"sha1": "1.3.14.3.2.26", "sha256": "2.16.840.1.101.3.4.2.1"}
_SUCCESSFUL, _MALFORMED, _UNAUTHORIZED = 0, 1, 6


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _seq(*parts: bytes) -> bytes:
    return _tlv(0x30, b"".join(parts))


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        rest = arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body += bytes(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _integer(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def _generalized(moment: datetime) -> bytes:
    return _tlv(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode())


def _explicit(number: int, content: bytes) -> bytes:
    return _tlv(0xA0 | number, content)


def _status_of(
    revocations: RevocationWorld, scopes: set[str], serial: int, moment: datetime
) -> tuple[str, Revocation | None]:
    rev = revocations.revocation_of(scopes, serial)
    if rev is not None and rev.ocsp_revoked_from is not None and rev.ocsp_revoked_from <= moment:
        return "revoked", rev
    if rev is not None or revocations.issued_serial(scopes, serial):
        return "good", rev
    return "unknown", None


def _unsuccessful(status: int) -> bytes:
    return _seq(_tlv(0x0A, bytes([status])))


def ocsp_response(revocations: RevocationWorld, request_der: bytes, moment: datetime) -> bytes:
    """The RFC 6960 response to one request, as of `moment`; unknown issuers get `unauthorized`."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        algorithm = request.hash_algorithm.name
        serial = request.serial_number
    except (ValueError, x509.UnsupportedGeneralNameType, NotImplementedError):
        return _unsuccessful(_MALFORMED)
    if algorithm not in _HASH_OIDS:
        return _unsuccessful(_MALFORMED)
    scopes = revocations.scopes_by_cert_id_hash(algorithm, request.issuer_name_hash, request.issuer_key_hash)
    if not scopes:
        return _unsuccessful(_UNAUTHORIZED)
    status, rev = _status_of(revocations, scopes, serial, moment)
    scope = sorted(scopes)[0]
    issuer = revocations.crl_signer(scope)
    delegate_id = revocations.ocsp_delegates.get(scope)
    signer_cert = revocations.ca_certs[delegate_id] if delegate_id else issuer
    signer_key = revocations.hierarchy.key(signer_cert.key_group)

    hour = moment.replace(minute=0, second=0, microsecond=0)
    changed = rev.ocsp_revoked_from if status == "revoked" and rev and rev.ocsp_revoked_from else hour
    this_update = max(hour, changed)
    next_update = this_update + timedelta(hours=revocations.settings.ocsp_validity_hours)
    cert_id = _seq(
        _seq(_oid(_HASH_OIDS[algorithm]), b"\x05\x00"),
        _tlv(0x04, request.issuer_name_hash),
        _tlv(0x04, request.issuer_key_hash),
        _integer(serial),
    )
    if status == "revoked" and rev is not None:
        revoked_info = _generalized(rev.revoked_at_claimed)
        if rev.reason_code is not None:
            revoked_info += _explicit(0, _tlv(0x0A, bytes([rev.reason_code])))
        cert_status = _tlv(0xA1, revoked_info)
    else:
        cert_status = _tlv(0x80 if status == "good" else 0x82, b"")
    single = _seq(cert_id, cert_status, _generalized(this_update), _explicit(0, _generalized(next_update)))
    key_hash = revocations.key_sha1(signer_cert)
    extensions = b""
    nonce = _nonce(request)
    if nonce is not None:
        extensions = _explicit(1, _seq(_seq(_oid(_OID_OCSP_NONCE), _tlv(0x04, _tlv(0x04, nonce)))))
    tbs = _seq(_tlv(0xA2, _tlv(0x04, key_hash)), _generalized(this_update), _seq(single), extensions)
    signature = signer_key.sign(tbs, _ECDSA)
    certs = _explicit(0, _seq(signer_cert.der)) if delegate_id else b""
    basic = _seq(tbs, _seq(_oid(_OID_ECDSA_SHA256)), _tlv(0x03, b"\x00" + signature), certs)
    response_bytes = _seq(_oid(_OID_OCSP_BASIC), _tlv(0x04, basic))
    return _seq(_tlv(0x0A, bytes([_SUCCESSFUL])), _explicit(0, response_bytes))


def _nonce(request: ocsp.OCSPRequest) -> bytes | None:
    try:
        extension = request.extensions.get_extension_for_class(x509.OCSPNonce)
    except (x509.ExtensionNotFound, ValueError):
        return None
    return extension.value.nonce


def ocsp_answer(revocations: RevocationWorld, encoded: str, body: bytes | None, moment: datetime) -> Response:
    """The responder's HTTP answer to a POSTed request (`body`), or to one base64 in the GET path."""
    if body is None:
        try:
            body = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise HttpError(400, "the GET path is not a base64 OCSP request") from exc
    return Response(200, ocsp_response(revocations, body, moment), "application/ocsp-response")
