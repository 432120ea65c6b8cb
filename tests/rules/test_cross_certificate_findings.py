"""The OCSP-signing profile rules over a warehouse: the cross-certificate mark decides error or warning."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from ctwatch import rule_runs, warehouse
from ctwatch.x509 import ParsedCert
from tests.rules.factory import ca_certificate

AS_OF = datetime(2026, 11, 27, tzinfo=UTC)


def _ca_cert(
    subject: str,
    subject_key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: datetime,
    *,
    ocsp_signing: bool = False,
) -> ParsedCert:
    return ca_certificate(
        subject, subject_key, issuer, issuer_key, not_before, path_length=0, ocsp_signing=ocsp_signing
    )


def test_sub_ca_keeps_its_error_when_another_hierarchy_cross_signs_it_later(tmp_path: Path) -> None:
    root_a_key, root_b_key, sub_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    roots_issued = datetime(2015, 1, 1, tzinfo=UTC)
    # both sub-CA certificates carry id-kp-OCSPSigning and start after 2023-09-15 (SC-062)
    original = _ca_cert(
        "Sub CA", sub_key, "Root A", root_a_key, datetime(2023, 10, 1, tzinfo=UTC), ocsp_signing=True
    )
    cross_signed = _ca_cert(
        "Sub CA", sub_key, "Root B", root_b_key, datetime(2024, 2, 1, tzinfo=UTC), ocsp_signing=True
    )
    warehouse_file = tmp_path / "warehouse.duckdb"
    con = warehouse.connect(warehouse_file)
    try:
        warehouse.store_certificates(
            con,
            [
                _ca_cert("Root A", root_a_key, "Root A", root_a_key, roots_issued),
                _ca_cert("Root B", root_b_key, "Root B", root_b_key, roots_issued),
                original,
                cross_signed,
            ],
            source="file:test",
        )
    finally:
        con.close()

    summary = rule_runs.evaluate_rules(warehouse_file, AS_OF)

    assert summary.cross_certificates == 1
    con = warehouse.connect(warehouse_file)
    try:
        found = set(con.execute("SELECT der_sha256, rule_id FROM rule_findings").fetchall())
    finally:
        con.close()
    assert found == {
        (original.der_sha256, "e_ca_ocsp_signing_eku_without_nocheck"),
        (original.der_sha256, "e_sub_ca_ocsp_signing_eku"),
        (cross_signed.der_sha256, "e_ca_ocsp_signing_eku_without_nocheck"),
        (cross_signed.der_sha256, "w_cross_ca_ocsp_signing_eku"),
    }
