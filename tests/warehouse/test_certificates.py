"""Storing certificates and parse errors, reading them back, marking cross-certificates."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from datetime import UTC, datetime, timedelta

import duckdb
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ctwatch import warehouse
from ctwatch.x509 import CertError, ParsedCert, analyse_bytes, analyse_der


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_round_trip_real_certificates(con: duckdb.DuckDBPyConnection, real_certs: list[ParsedCert]) -> None:
    assert warehouse.store_certificates(con, real_certs, source="file:fixtures") == len(real_certs)
    stored = {cert.der_sha256: cert for cert, _ in warehouse.certificates_for_rules(con)}
    assert stored == {cert.der_sha256: cert for cert in real_certs}


def test_round_trip_keeps_missing_fields_missing(
    con: duckdb.DuckDBPyConnection, real_certs: list[ParsedCert]
) -> None:
    # What the pyasn1 fallback produces for a damaged certificate: undecodable fields are None.
    damaged = dataclasses.replace(
        real_certs[0],
        der_sha256="00" * 32,
        subject_rfc4514=None,
        subject_der=None,
        not_before=None,
        not_after=None,
        path_length=None,
        spki_sha256=None,
        self_signed=None,
        key_usage=frozenset(),
        parser="pyasn1",
        warnings=("subject: undecodable", "validity: bad time"),
    )
    warehouse.store_certificates(con, [damaged], source="crtsh")
    assert [cert for cert, _ in warehouse.certificates_for_rules(con)] == [damaged]


def test_every_parsed_cert_field_has_a_column(con: duckdb.DuckDBPyConnection) -> None:
    columns = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'certificates'"
        ).fetchall()
    }
    fields = {field.name for field in dataclasses.fields(ParsedCert)} - {"warnings"} | {"parse_warnings"}
    assert fields <= columns


def test_duplicates_are_stored_once(con: duckdb.DuckDBPyConnection, real_certs: list[ParsedCert]) -> None:
    first, second = real_certs[:5], real_certs[3:8]
    assert warehouse.store_certificates(con, first + first, source="ct:log-a:1") == 5
    assert warehouse.store_certificates(con, second, source="ct:log-b:2") == 3
    assert warehouse.store_certificates(con, [], source="ct:log-b:2") == 0
    assert _count(con, "certificates") == 8
    # the first sighting is kept
    row = con.execute(
        "SELECT first_seen_source FROM certificates WHERE der_sha256 = ?", [real_certs[3].der_sha256]
    ).fetchone()
    assert row == ("ct:log-a:1",)


def test_ten_thousand_certificates_store_quickly(
    con: duckdb.DuckDBPyConnection, real_certs: list[ParsedCert]
) -> None:
    template = real_certs[0]
    batch = [
        dataclasses.replace(template, der_sha256=hashlib.sha256(i.to_bytes(4, "big")).hexdigest())
        for i in range(10_000)
    ]
    started = time.monotonic()
    assert warehouse.store_certificates(con, batch, source="file:bulk") == 10_000
    assert time.monotonic() - started < 10
    assert warehouse.store_certificates(con, batch, source="file:bulk") == 0


def test_parse_errors_are_recorded_once(con: duckdb.DuckDBPyConnection) -> None:
    errors = [r for r in analyse_bytes(b"this is no certificate") if isinstance(r, CertError)]
    assert len(errors) == 1
    malformed = analyse_der(b"\x30\x03\x02\x01\x01")
    assert isinstance(malformed, CertError)
    batch = [(errors[0], "file:junk.txt"), (malformed, "ct:log-a:7"), (malformed, "ct:log-a:7")]
    assert warehouse.record_parse_errors(con, batch) == 2
    assert warehouse.record_parse_errors(con, batch) == 0
    assert warehouse.record_parse_errors(con, [(malformed, "ct:log-b:9")]) == 1
    rows = con.execute(
        "SELECT input_sha256, input_length, source, error FROM cert_parse_errors ORDER BY source"
    ).fetchall()
    assert rows == [
        (malformed.input_sha256, 5, "ct:log-a:7", malformed.error),
        (malformed.input_sha256, 5, "ct:log-b:9", malformed.error),
        (errors[0].input_sha256, errors[0].input_length, "file:junk.txt", errors[0].error),
    ]


# -- cross-certificates: real certificates built here, so the relationship is known exactly --

_NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca_cert(
    subject: str, subject_key: ec.EllipticCurvePrivateKey, issuer: str, issuer_key: ec.EllipticCurvePrivateKey
) -> ParsedCert:
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_BEFORE + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )
    parsed = analyse_der(cert.public_bytes(serialization.Encoding.DER))
    assert isinstance(parsed, ParsedCert)
    return parsed


def test_mark_cross_certificates(con: duckdb.DuckDBPyConnection) -> None:
    root_a_key, root_b_key, sub_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root_a = _ca_cert("Root A", root_a_key, "Root A", root_a_key)
    root_b = _ca_cert("Root B", root_b_key, "Root B", root_b_key)
    root_a_signed_by_b = _ca_cert("Root A", root_a_key, "Root B", root_b_key)
    sub_from_a = _ca_cert("Sub CA", sub_key, "Root A", root_a_key)
    sub_reissued_by_a = _ca_cert("Sub CA", sub_key, "Root A", root_a_key)
    lone_sub = _ca_cert("Lone Sub CA", ec.generate_private_key(ec.SECP256R1()), "Root B", root_b_key)
    warehouse.store_certificates(
        con, [root_a, root_b, root_a_signed_by_b, sub_from_a, sub_reissued_by_a, lone_sub], source="file:test"
    )

    def marked() -> set[str]:
        return {cert.der_sha256 for cert, is_cross in warehouse.certificates_for_rules(con) if is_cross}

    # Root A's self-signed certificate is the CA's own; the one signed by B is the cross-certificate.
    assert warehouse.mark_cross_certificates(con) == 1
    assert marked() == {root_a_signed_by_b.der_sha256}

    # The same subject and key from a second issuer makes both sub-CA certificates cross-signs.
    sub_from_b = _ca_cert("Sub CA", sub_key, "Root B", root_b_key)
    warehouse.store_certificates(con, [sub_from_b], source="file:test")
    assert warehouse.mark_cross_certificates(con) == 4
    assert marked() == {
        root_a_signed_by_b.der_sha256,
        sub_from_a.der_sha256,
        sub_reissued_by_a.der_sha256,
        sub_from_b.der_sha256,
    }
    assert warehouse.mark_cross_certificates(con) == 4

    groups = dict(
        con.execute("SELECT spki_sha256, member_count FROM key_groups ORDER BY spki_sha256").fetchall()
    )
    assert groups[sub_from_a.spki_sha256] == 3
    assert groups[root_a.spki_sha256] == 2
    assert groups[lone_sub.spki_sha256] == 1
