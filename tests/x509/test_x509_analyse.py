"""Input handling of analyse_bytes / analyse_der: DER, PEM bundles, labels, bad blocks, no certificate."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from ctwatch.x509 import CertError, CertKind, ParsedCert, analyse_bytes, analyse_der

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CA_CERTS = FIXTURES / "real" / "ca_certs"
UCA_ROOT = CA_CERTS / "ocsp_eku_positive" / "93e65ec762f055dc_UCA_Root.pem"
R3 = CA_CERTS / "controls" / "730c1bdcd85f57ce_R3.pem"
INVALID_VERSION = FIXTURES / "x509_malformed" / "invalid_version.pem"
CRL_PEM = FIXTURES / "real" / "crls" / "real" / "GIAG2_2017-06-29_ct-go.crl.pem"


def _der_of(pem_path: Path) -> bytes:
    body = re.search(rb"-----BEGIN [A-Z0-9 ]+-----(.*?)-----END", pem_path.read_bytes(), re.S)
    assert body is not None
    return base64.b64decode(b"".join(body.group(1).split()))


def _pem(der: bytes, label: bytes = b"CERTIFICATE") -> bytes:
    lines = [base64.b64encode(der)[i : i + 64] for i in range(0, len(base64.b64encode(der)), 64)]
    return b"-----BEGIN " + label + b"-----\n" + b"\n".join(lines) + b"\n-----END " + label + b"-----\n"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_der_input_gives_the_same_record_as_pem() -> None:
    der = _der_of(UCA_ROOT)
    [from_der] = analyse_bytes(der)
    [from_pem] = analyse_bytes(UCA_ROOT.read_bytes())
    assert isinstance(from_der, ParsedCert)
    assert from_der == from_pem == analyse_der(der)
    assert from_der.der == der
    assert (
        from_der.der_sha256
        == _sha256(der)
        == "93e65ec762f055dc718a332582c41a04430d72e3cb87e8b897b67516f0d1aa39"
    )
    assert from_der.kind is CertKind.ROOT


def test_bundle_with_bad_blocks_in_the_middle_keeps_every_position() -> None:
    garbage_der = b"\x30\x03\x02\x01\x05"  # a DER SEQUENCE, but no certificate
    bundle = b"".join(
        [
            b"# chain exported by some tool\n",
            UCA_ROOT.read_bytes(),
            b"-----BEGIN CERTIFICATE-----\nMIIB!!not*base64\n-----END CERTIFICATE-----\n",
            _pem(garbage_der),
            INVALID_VERSION.read_bytes(),
            b"some text between blocks\n",
            R3.read_bytes(),
        ]
    )
    results = analyse_bytes(bundle)
    assert [type(result).__name__ for result in results] == [
        "ParsedCert",
        "CertError",
        "CertError",
        "ParsedCert",
        "ParsedCert",
    ]
    good_root, bad_base64, bad_der, fallback, good_r3 = results
    assert isinstance(good_root, ParsedCert)
    assert good_root.der_sha256.startswith("93e65ec762f055dc")
    assert isinstance(bad_base64, CertError)
    assert "PEM block #1" in bad_base64.error
    assert isinstance(bad_der, CertError)
    assert bad_der.input_sha256 == _sha256(garbage_der)
    assert bad_der.input_length == len(garbage_der)
    assert "not an X.509 certificate" in bad_der.error
    assert isinstance(fallback, ParsedCert)
    assert fallback.parser == "pyasn1"
    assert isinstance(good_r3, ParsedCert)
    assert good_r3.der_sha256.startswith("730c1bdcd85f57ce")


def test_unterminated_last_block_is_an_error_after_the_good_ones() -> None:
    truncated = R3.read_bytes()[:300]
    results = analyse_bytes(UCA_ROOT.read_bytes() + truncated)
    assert isinstance(results[0], ParsedCert)
    assert isinstance(results[1], CertError)
    assert "no END line" in results[1].error
    assert len(results) == 2


def test_legacy_and_trusted_labels() -> None:
    der = _der_of(UCA_ROOT)
    openssl_trust_settings = bytes.fromhex("300c300a06082b06010505070301")  # SEQUENCE after the cert
    bundle = _pem(der, b"X509 CERTIFICATE") + _pem(der + openssl_trust_settings, b"TRUSTED CERTIFICATE")
    legacy, trusted = analyse_bytes(bundle)
    assert isinstance(legacy, ParsedCert)
    assert isinstance(trusted, ParsedCert)
    assert legacy.der == trusted.der == der
    assert trusted.warnings == (f"{len(openssl_trust_settings)} bytes after the certificate ignored",)


def test_pem_inside_a_json_string() -> None:
    document = json.dumps({"chain": [UCA_ROOT.read_text()]}).encode()
    assert b"\\n" in document
    [result] = analyse_bytes(document)
    assert isinstance(result, ParsedCert)
    assert result.der_sha256.startswith("93e65ec762f055dc")


def test_der_with_trailing_bytes_is_parsed_with_a_warning() -> None:
    der = _der_of(R3)
    result = analyse_der(der + b"\x00\x00junk")
    assert isinstance(result, ParsedCert)
    assert result.der == der
    assert result.warnings == ("6 bytes after the certificate ignored",)


def test_inputs_without_any_certificate_give_exactly_one_error() -> None:
    crl_der = _der_of(CRL_PEM)
    private_key_only = b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
    for data, reason in [
        (b"", "empty input"),
        (b"hello, world\n", "no certificate"),
        (private_key_only, "no certificate"),
        (crl_der, "not an X.509 certificate"),
        (b"\x30\x82\xff\xff\x01", "not DER"),
    ]:
        results = analyse_bytes(data)
        assert len(results) == 1, data
        [error] = results
        assert isinstance(error, CertError), data
        assert reason in error.error
        assert error.input_sha256 == _sha256(data)
        assert error.input_length == len(data)


def test_analyse_der_rejects_non_der_with_a_reason() -> None:
    result = analyse_der(UCA_ROOT.read_bytes())  # PEM text handed to the DER entry point
    assert isinstance(result, CertError)
    assert result.error.startswith("not DER: expected a SEQUENCE")
