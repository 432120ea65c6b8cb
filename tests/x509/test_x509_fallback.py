"""Certificates cryptography refuses (whole or in part) still yield every field that decodes."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509

from ctwatch.x509 import CertError, CertKind, ParsedCert, analyse_bytes, analyse_der

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MALFORMED = FIXTURES / "x509_malformed"


def _parse(name: str) -> ParsedCert:
    [result] = analyse_bytes((MALFORMED / name).read_bytes())
    assert isinstance(result, ParsedCert), result
    return result


def test_bad_version_falls_back_to_pyasn1_with_all_fields() -> None:
    cert = _parse("invalid_version.pem")
    assert cert.parser == "pyasn1"
    assert cert.subject_rfc4514 == "CN=Cryptography CA,O=PyCA,L=Austin,ST=Texas,C=US"
    assert cert.issuer_rfc4514 == cert.subject_rfc4514
    assert cert.self_issued
    assert cert.serial_hex == "65aad1208021089f61edb14cce44adc41cfd3"
    assert cert.not_before == datetime(2014, 11, 26, 14, 44, 57, tzinfo=UTC)
    assert cert.not_after == datetime(2034, 11, 21, 20, 44, 57, tzinfo=UTC)
    assert cert.is_ca
    assert cert.ski_hex == cert.aki_hex == "adceb02b3bdfdd24f94e4f8876bdfb405f692233"
    assert cert.spki_sha256 == "bbb6841f39f390a71b01878857611cca89a99bd4b6939c9d8dd0a06c059a2fa1"
    # signature not checkable in the fallback: self-issued with AKI == SKI counts as a root
    assert cert.self_signed is None
    assert cert.kind is CertKind.ROOT
    assert any("InvalidVersion" in warning for warning in cert.warnings)
    assert any("version field is 7" in warning for warning in cert.warnings)


def test_invalid_time_loses_only_not_after() -> None:
    cert = _parse("badasn1time.pem")
    assert cert.parser == "pyasn1"
    assert cert.not_after is None
    assert cert.not_before == datetime(2011, 3, 21, 9, 25, 52, tzinfo=UTC)
    assert cert.issuer_rfc4514 == "CN=fckPA200.quickenjoy.com,C=GB"
    assert cert.serial_hex == "cfcdde7cf4bf66fd"
    assert cert.is_ca
    assert cert.ski_hex == "faea49ad9aeff4c2c349fa15768d2f31d739af38"
    assert any(warning.startswith("notAfter:") for warning in cert.warnings)


def test_rfc8410_example_with_encoded_default_decodes_by_pyasn1() -> None:
    cert = _parse("ed25519-rfc8410.pem")
    assert cert.parser == "pyasn1"
    assert cert.subject_rfc4514 == "CN=IETF Test Demo"
    assert cert.key_usage == {"key_agreement"}
    assert cert.key_usage_present
    assert cert.ski_hex == "9b1f5eeded043385e4f7bc623c5975b90bc8bb3b"
    assert cert.kind is CertKind.OTHER_LEAF


def test_negative_serial_is_twos_complement_hex_with_a_warning() -> None:
    cert = _parse("negative_serial.pem")
    assert cert.parser == "cryptography"
    # -18008675309 as DER INTEGER content bytes
    assert cert.serial_hex == "fbce996c13"
    assert any("not positive (-18008675309)" in warning for warning in cert.warnings)


def test_malformed_basic_constraints_decoded_extension_by_extension() -> None:
    cert = _parse("wosign-bc-invalid.pem")
    assert cert.parser == "cryptography"
    assert any("path_length must be None" in warning for warning in cert.warnings)
    assert cert.is_ca is False
    assert cert.eku_oids == ("1.3.6.1.5.5.7.3.3", "1.3.6.1.4.1.311.2.1.22")
    assert cert.crl_urls == ("http://crls.wosign.com/code-3.crl",)
    assert cert.ocsp_urls == ("http://ocsp.wosign.com/class3/code/ca",)
    assert cert.ca_issuers_urls == ("http://aia.wosign.com/class3.code.ca.cer",)
    assert cert.policy_oids == ("1.3.6.1.4.1.36305.1.3.3.1.2",)
    assert cert.aki_hex == "f502aa4bd3e01a8e7750d61abbebdfb98370b04e"
    assert cert.kind is CertKind.OTHER_LEAF


def test_duplicate_extension_keeps_the_first_and_warns() -> None:
    cert = _parse("two_basic_constraints.pem")
    assert cert.is_ca
    assert any("duplicate" in warning for warning in cert.warnings)


def test_empty_eku_is_present_not_absent() -> None:
    cert = _parse("empty-eku.pem")
    assert cert.eku_absent is False
    assert cert.eku_oids == ()
    assert cert.san_dns_names == ("example.com",)


def test_name_with_invalid_utf8_is_kept_as_rfc4514_hex() -> None:
    cert = _parse("invalid_utf8_common_name.pem")
    assert cert.subject_rfc4514 == "CN=#0c105765206865617274205554463821e284"
    assert any(warning.startswith("subject: cryptography") for warning in cert.warnings)


def _real_ders() -> list[bytes]:
    results = analyse_bytes((FIXTURES / "real" / "ccadb" / "AllCertificatePEMs1990.csv").read_bytes())
    paths = sorted((FIXTURES / "real" / "ca_certs").glob("*/*.pem"))
    results += [result for path in paths for result in analyse_bytes(path.read_bytes())]
    return [result.der for result in results if isinstance(result, ParsedCert)]


def test_fallback_agrees_with_cryptography_on_real_certificates(monkeypatch: pytest.MonkeyPatch) -> None:
    ders = _real_ders()
    by_cryptography = [analyse_der(der) for der in ders]

    def refuse(data: bytes) -> x509.Certificate:
        raise ValueError("refused for this test")

    monkeypatch.setattr(x509, "load_der_x509_certificate", refuse)
    by_pyasn1 = [analyse_der(der) for der in ders]
    # the fallback cannot check signatures; everything else must be identical
    differing_by_design = {"parser", "warnings", "self_signed", "kind"}
    compared = [f.name for f in fields(ParsedCert) if f.name not in differing_by_design]
    assert len(ders) == 154
    for fast, slow in zip(by_cryptography, by_pyasn1, strict=True):
        assert isinstance(fast, ParsedCert)
        assert isinstance(slow, ParsedCert)
        assert slow.parser == "pyasn1"
        assert {name: getattr(slow, name) for name in compared} == {
            name: getattr(fast, name) for name in compared
        }
        if fast.kind is not CertKind.ROOT:
            assert slow.kind is fast.kind


def test_bytes_neither_library_decodes_are_a_cert_error() -> None:
    crl_pem = (FIXTURES / "real" / "crls" / "real" / "GIAG2_2017-06-29_ct-go.crl.pem").read_bytes()
    [result] = analyse_bytes(crl_pem)
    assert isinstance(result, CertError)
    assert "no -----BEGIN CERTIFICATE-----" in result.error
