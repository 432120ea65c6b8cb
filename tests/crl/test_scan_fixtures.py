"""Every real and edge-case CRL gives a result or a recorded error; signatures check against issuers."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ctwatch.cli import main
from ctwatch.cli.crl import inspect_record
from ctwatch.crl import SignatureStatus, open_crl, scan_crl
from ctwatch.x509 import ParsedCert, analyse_bytes

CRLS = Path(__file__).resolve().parents[1] / "fixtures" / "real" / "crls"
EDGE = CRLS / "synthetic_edge_cases"
GIAG2_CRL = CRLS / "real" / "GIAG2_2017-06-29_ct-go.crl.pem"
GIAG2_ISSUER = CRLS / "real" / "GIAG2_issuer_cert_ct-go.pem"
SIGNATURE_ISSUER = Path(__file__).parent / "data" / "valid_signature_cert.pem"

ALL_CRLS = sorted(p for p in CRLS.rglob("*") if p.is_file() and p != GIAG2_ISSUER and p.suffix != ".md")

# file name -> finding codes it must carry (error files: the error text it must contain)
EXPECTED_FINDINGS = {
    "cryptography-vectors_crl_bad_version.pem": {"version_invalid"},
    "cryptography-vectors_crl_delta_crl_indicator.pem": {"delta_crl"},
    "cryptography-vectors_crl_dup_entry_ext.pem": {"entry_malformed"},
    "cryptography-vectors_crl_inval_cert_issuer_entry_ext.pem": {"entry_malformed"},
    "cryptography-vectors_crl_md2_unknown_crit_entry_ext.pem": {"unknown_critical_entry_extension"},
    "cryptography-vectors_crl_no_next_update.pem": {"next_update_missing"},
    "cryptography-vectors_crl_unsupported_reason.pem": {"reason_code_invalid"},
    "pkilint_pkix_crl_bad_idp_uri.crltest": {"idp_uri_invalid"},
    "pkilint_pkix_crl_negative_validity_period.crltest": {"next_update_before_this_update"},
    "zlint_crlReasonCodeCrit.pem": {"reason_code_critical"},
    "zlint_crlWithDuplicatesInRevokedCertificateList.pem": {"duplicate_serial"},
    "zlint_crl_number_negative.pem": {"crl_number_negative"},
    "zlint_crl_revocation_time_after_this_update.pem": {"revocation_after_this_update"},
}
EXPECTED_ERRORS = {"cryptography-vectors_crl_invalid_time.der": "invalid time '18102813516Z'"}


def _issuer(path: Path) -> ParsedCert:
    result = analyse_bytes(path.read_bytes())[0]
    assert isinstance(result, ParsedCert)
    return result


@pytest.mark.parametrize("path", ALL_CRLS, ids=lambda p: p.name)
def test_every_fixture_gives_a_result_or_a_recorded_error(path: Path) -> None:
    scan = scan_crl(path)
    if path.name in EXPECTED_ERRORS:
        assert scan.error is not None
        assert EXPECTED_ERRORS[path.name] in scan.error
        return
    assert scan.error is None, scan.error
    assert scan.header is not None
    assert scan.trailer is not None
    codes = {finding.code for finding in scan.findings}
    assert EXPECTED_FINDINGS.get(path.name, set()) <= codes


def test_clean_real_crls_have_no_findings() -> None:
    for name in ("zlint_crlEntrustNoRevokedCerts01.pem", "zlint_crlEntrustNoRevokedCerts02.pem"):
        assert scan_crl(CRLS / "real" / name).findings == ()


def test_entries_stream_like_cryptography_parses_them() -> None:
    path = EDGE / "cryptography-vectors_crl_almost_10k.pem"
    expected = x509.load_pem_x509_crl(path.read_bytes())
    with open_crl(path) as reader:
        streamed = list(reader.entries())
        trailer = reader.finish(None)
    assert len(streamed) == len(expected) == 9999
    for ours, theirs in zip(streamed, expected, strict=True):
        assert ours.serial_hex == format(theirs.serial_number, "x")
        assert ours.revoked_at == theirs.revocation_date_utc
    assert trailer.der_sha256 == hashlib.sha256(expected.public_bytes(Encoding.DER)).hexdigest()


def test_all_reason_codes_are_read() -> None:
    path = EDGE / "cryptography-vectors_crl_all_reasons.pem"
    with open_crl(path) as reader:
        reasons = [entry.reason for entry in reader.entries()]
    expected = []
    for entry in x509.load_pem_x509_crl(path.read_bytes()):
        try:
            expected.append(entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value)
        except x509.ExtensionNotFound:
            expected.append(None)
    assert reasons == expected
    assert len(set(reasons)) >= 10


def test_giag2_crl_verifies_with_its_issuer() -> None:
    scan = scan_crl(GIAG2_CRL, issuer=_issuer(GIAG2_ISSUER))
    assert scan.trailer is not None
    assert scan.trailer.signature_status is SignatureStatus.VALID
    assert scan.signature_valid is True
    assert scan.entry_count == 4
    assert scan.trailer.crl_number == 1571


def test_cryptography_signature_vectors() -> None:
    issuer = _issuer(SIGNATURE_ISSUER)
    assert (
        scan_crl(EDGE / "cryptography-vectors_valid_signature_crl.pem", issuer=issuer).signature_valid is True
    )
    invalid = scan_crl(EDGE / "cryptography-vectors_invalid_signature_crl.pem", issuer=issuer)
    assert invalid.signature_valid is False
    assert "signature_invalid" in {f.code for f in invalid.findings}


def test_wrong_issuer_is_reported() -> None:
    scan = scan_crl(GIAG2_CRL, issuer=_issuer(SIGNATURE_ISSUER))
    assert scan.signature_valid is False
    assert {"signature_invalid", "issuer_name_mismatch"} <= {f.code for f in scan.findings}


def test_inspect_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crl", "inspect", str(GIAG2_CRL), "--issuer", str(GIAG2_ISSUER)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["issuer"] == "CN=Google Internet Authority G2,O=Google Inc,C=US"
    assert record["this_update"] == "2017-06-29T01:00:02+00:00"
    assert record["next_update"] == "2017-07-09T01:00:02+00:00"
    assert record["crl_number"] == 1571
    assert record["entries"] == 4
    assert record["signature_valid"] is True
    assert record["findings"] == []


def test_inspect_without_issuer_and_on_garbage(tmp_path: Path) -> None:
    assert inspect_record(GIAG2_CRL, None, None)["signature_valid"] is None
    garbage = tmp_path / "garbage.crl"
    garbage.write_bytes(b"\x30\x82\xff\xff" + b"\x00" * 10)
    record = inspect_record(garbage, None, None)
    assert record["error"] == "TBSCertList: expected a SEQUENCE, found tag 0x00"
    der = x509.load_pem_x509_crl(GIAG2_CRL.read_bytes()).public_bytes(Encoding.DER)
    cut = tmp_path / "cut.crl"
    cut.write_bytes(der[:300])
    assert inspect_record(cut, None, None)["error"].startswith("truncated")
    missing = inspect_record(tmp_path / "missing.crl", None, None)
    assert missing["error"].startswith("cannot read")


def test_rsa_pss_signature_verifies_over_the_stream(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509.oid import NameOID

    from tests.crl.factory import T0, self_signed

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PSS CA")])
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    issuer = self_signed(key, name, not_before=T0, not_after=T0.replace(year=2030)).sign(key, hashes.SHA256())
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(name)
        .last_update(T0)
        .next_update(T0.replace(day=8))
        .sign(key, hashes.SHA384(), rsa_padding=pss)
    )
    path = tmp_path / "pss.crl"
    path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    parsed = analyse_bytes(issuer.public_bytes(serialization.Encoding.DER))[0]
    assert isinstance(parsed, ParsedCert)
    assert scan_crl(path, issuer=parsed).signature_valid is True
