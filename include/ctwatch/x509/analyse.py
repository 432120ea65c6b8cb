"""Bytes -> ParsedCert | CertError: cryptography first, pyasn1 where cryptography refuses."""

from __future__ import annotations

import base64
import re
import warnings

from cryptography import x509

from ctwatch.x509 import _der, _pyasn1
from ctwatch.x509._crypto import fill_from_cryptography
from ctwatch.x509._draft import Draft, cert_error, describe
from ctwatch.x509.model import CertError, ParsedCert

# RFC 7468 labels, plus OpenSSL's legacy "X509" and its "TRUSTED" form (DER + trust settings).
_PEM_BEGIN = re.compile(rb"-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----")


def analyse_der(der: bytes) -> ParsedCert | CertError:
    """Analyse one DER certificate. Never raises: bytes that are no certificate give a CertError."""
    try:
        return _analyse_der(der)
    except Exception as exc:  # the public API never raises; the bug is kept as data
        return cert_error(der, f"internal error while analysing: {describe(exc)}")


def _analyse_der(der: bytes) -> ParsedCert | CertError:
    try:
        certificate_end = _der.outer_sequence_end(der)
    except _der.DerError as exc:
        return cert_error(der, f"not DER: {exc}")
    notes: list[str] = []
    if certificate_end < len(der):
        notes.append(f"{len(der) - certificate_end} bytes after the certificate ignored")
        der = der[:certificate_end]
    with_cryptography = _analyse_with_cryptography(der, notes)
    if isinstance(with_cryptography, str):
        return _analyse_with_pyasn1(der, with_cryptography, notes)
    return with_cryptography


def _analyse_with_cryptography(der: bytes, notes: list[str]) -> ParsedCert | str:
    """The certificate as cryptography reads it, or cryptography's reason for refusing it."""
    # cryptography warns (Python warnings) about oddities it tolerates, e.g. a negative serial or
    # a 13-letter country name: they belong to this certificate's record, not to the log.
    # catch_warnings is process-global: analyse in processes (Airflow tasks are), not threads.
    with warnings.catch_warnings(record=True) as library_warnings:
        warnings.simplefilter("always")
        try:
            cert = x509.load_der_x509_certificate(der)
        except Exception as exc:  # ValueError, InvalidVersion, ...: all mean "refused"
            return describe(exc)
        draft = Draft(der=der, parser="cryptography", warnings=list(notes))
        fill_from_cryptography(draft, cert)
    messages = dict.fromkeys(str(caught.message) for caught in library_warnings)
    draft.warnings.extend(f"cryptography: {message}" for message in messages)
    return draft.finish()


def _analyse_with_pyasn1(der: bytes, refusal: str, notes: list[str]) -> ParsedCert | CertError:
    try:
        certificate = _pyasn1.decode_certificate(der)
    except Exception as exc:  # pyasn1 raises several error types
        return cert_error(der, f"not an X.509 certificate: cryptography: {refusal}; pyasn1: {describe(exc)}")
    draft = Draft(der=der, parser="pyasn1", warnings=[*notes, f"cryptography refused it: {refusal}"])
    _pyasn1.fill_from_pyasn1(draft, certificate)
    if draft.self_issued:
        draft.self_signed = None
        draft.warnings.append("self-signature not checked: cryptography refused the certificate")
    return draft.finish()


def analyse_bytes(data: bytes) -> list[ParsedCert | CertError]:
    """Analyse a file's content: one DER certificate, or text holding any number of PEM blocks.

    PEM blocks may sit anywhere (inside CSV or JSON fields too). Each block gives one result in
    its position, so a bad block never hides the others; input without any certificate gives
    exactly one CertError. Never raises.
    """
    try:
        return _analyse_bytes(data)
    except Exception as exc:  # the public API never raises
        return [cert_error(data, f"internal error while splitting input: {describe(exc)}")]


def _is_whole_der(data: bytes) -> bool:
    try:
        return not data[_der.outer_sequence_end(data) :].strip()
    except _der.DerError:
        return False


def _analyse_bytes(data: bytes) -> list[ParsedCert | CertError]:
    if not data:
        return [cert_error(data, "empty input")]
    # A DER certificate could quote a PEM line in some text field: DER wins when it spans the input.
    begins = [] if _is_whole_der(data) else list(_PEM_BEGIN.finditer(data))
    if not begins:
        if data[0] == _der.SEQUENCE:
            return [analyse_der(data)]
        return [cert_error(data, "no certificate: not DER and no -----BEGIN CERTIFICATE----- block")]
    results: list[ParsedCert | CertError] = []
    for position, begin in enumerate(begins):
        block_limit = begins[position + 1].start() if position + 1 < len(begins) else len(data)
        end_line = b"-----END " + (begin.group(1) or b"") + b"CERTIFICATE-----"
        end = data.find(end_line, begin.end(), block_limit)
        if end < 0:
            unterminated = data[begin.start() : block_limit]
            results.append(cert_error(unterminated, f"PEM block #{position} has no END line"))
            continue
        try:
            der = _pem_body_to_der(data[begin.end() : end])
        except ValueError as exc:
            results.append(cert_error(data[begin.start() : end], f"PEM block #{position}: {describe(exc)}"))
            continue
        results.append(analyse_der(der))
    return results


def _pem_body_to_der(body: bytes) -> bytes:
    # Undo JSON string escapes ("\n", "\/"); backslash is no base64 character, so this is safe.
    body = body.replace(b"\\r", b"").replace(b"\\n", b"\n").replace(b"\\/", b"/")
    # Drop RFC 1421 header lines ("Proc-Type: ...") that old PEM files carry.
    base64_text = b"".join(b"".join(line.split()) for line in body.splitlines() if b":" not in line)
    if not base64_text:
        raise ValueError("empty PEM block")
    return base64.b64decode(base64_text, validate=True)
