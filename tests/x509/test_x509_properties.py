"""Property test: no input bytes make the analyser raise; every result is a ParsedCert or a CertError."""

from __future__ import annotations

import base64
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctwatch.x509 import CertError, ParsedCert, analyse_bytes, analyse_der

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
_SEEDS = [
    FIXTURES / "real" / "ca_certs" / "ocsp_eku_positive" / "93e65ec762f055dc_UCA_Root.pem",
    FIXTURES / "real" / "ca_certs" / "controls" / "730c1bdcd85f57ce_R3.pem",
    FIXTURES / "real" / "ca_certs" / "ocsp_responders" / "ca9225246c46c277_OCSP_RootCA_R2_Disig.pem",
    FIXTURES / "x509_malformed" / "invalid_version.pem",
    FIXTURES / "x509_malformed" / "wosign-bc-invalid.pem",
    FIXTURES / "x509_malformed" / "ed25519-rfc8410.pem",
]
REAL_DERS = [
    result.der
    for path in _SEEDS
    for result in analyse_bytes(path.read_bytes())
    if isinstance(result, ParsedCert)
]
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def damaged_der(draw: st.DrawFn) -> bytes:
    der = bytearray(draw(st.sampled_from(REAL_DERS)))
    damage = draw(st.sampled_from(["truncate", "flip", "splice", "random"]))
    if damage == "truncate":
        return bytes(der[: draw(st.integers(0, len(der) - 1))])
    if damage == "flip":
        for position in draw(st.lists(st.integers(0, len(der) * 8 - 1), min_size=1, max_size=8)):
            der[position // 8] ^= 1 << (position % 8)
        return bytes(der)
    if damage == "splice":
        start = draw(st.integers(0, len(der)))
        end = draw(st.integers(start, min(len(der), start + 64)))
        return bytes(der[:start]) + draw(st.binary(max_size=64)) + bytes(der[end:])
    return draw(st.binary(max_size=2048))


def _pem(der: bytes) -> bytes:
    return b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"


def test_seed_certificates_all_parse() -> None:
    assert len(REAL_DERS) == len(_SEEDS)


@PROPERTY_SETTINGS
@given(damaged_der())
def test_analyse_der_never_raises(data: bytes) -> None:
    result = analyse_der(data)
    assert isinstance(result, ParsedCert | CertError)
    if isinstance(result, ParsedCert):
        assert data.startswith(result.der)


@PROPERTY_SETTINGS
@given(
    st.lists(damaged_der(), min_size=0, max_size=3),
    st.binary(max_size=32).filter(lambda noise: not noise.startswith(b"0")),  # "0" is a DER SEQUENCE
)
def test_analyse_bytes_never_raises_and_keeps_one_result_per_block(blocks: list[bytes], noise: bytes) -> None:
    results = analyse_bytes(noise + b"\n".join(_pem(block) for block in blocks))
    assert all(isinstance(result, ParsedCert | CertError) for result in results)
    assert len(results) == max(len(blocks), 1)


@PROPERTY_SETTINGS
@given(damaged_der())
def test_analyse_bytes_on_raw_damaged_der(data: bytes) -> None:
    results = analyse_bytes(data)
    assert len(results) >= 1
    assert all(isinstance(result, ParsedCert | CertError) for result in results)
