"""Storing certificates and parse errors, reading them back, marking cross-certificates."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from datetime import UTC, datetime

import duckdb
from cryptography.hazmat.primitives.asymmetric import ec

from ctwatch import warehouse
from ctwatch.x509 import CertError, ParsedCert, analyse_bytes, analyse_der
from tests.rules.factory import ca_certificate


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


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _ca_cert(
    subject: str,
    subject_key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: datetime = _NOT_BEFORE,
) -> ParsedCert:
    return ca_certificate(subject, subject_key, issuer, issuer_key, not_before)


def _root(name: str, key: ec.EllipticCurvePrivateKey) -> ParsedCert:
    return _ca_cert(name, key, name, key)


def _marked(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {cert.der_sha256 for cert, is_cross in warehouse.certificates_for_rules(con) if is_cross}


def test_mark_cross_certificates(con: duckdb.DuckDBPyConnection) -> None:
    root_a_key, root_b_key, sub_key = _key(), _key(), _key()
    root_a = _root("Root A", root_a_key)
    root_b = _root("Root B", root_b_key)
    root_a_signed_by_b = _ca_cert("Root A", root_a_key, "Root B", root_b_key)
    sub_from_a = _ca_cert("Sub CA", sub_key, "Root A", root_a_key)
    sub_reissued_by_a = _ca_cert(
        "Sub CA", sub_key, "Root A", root_a_key, not_before=datetime(2020, 6, 1, tzinfo=UTC)
    )
    lone_sub = _ca_cert("Lone Sub CA", _key(), "Root B", root_b_key)
    warehouse.store_certificates(
        con, [root_a, root_b, root_a_signed_by_b, sub_from_a, sub_reissued_by_a, lone_sub], source="file:test"
    )

    # Root A's self-signed certificate is the CA's own; the one signed by B is the cross-certificate.
    # The sub-CA's re-issue comes from the same issuer, so it is no cross-certificate.
    assert warehouse.mark_cross_certificates(con) == 1
    assert _marked(con) == {root_a_signed_by_b.der_sha256}
    assert warehouse.mark_cross_certificates(con) == 1

    groups = dict(
        con.execute("SELECT spki_sha256, member_count FROM key_groups ORDER BY spki_sha256").fetchall()
    )
    assert groups[sub_from_a.spki_sha256] == 2
    assert groups[root_a.spki_sha256] == 2
    assert groups[lone_sub.spki_sha256] == 1


def test_sub_ca_cross_signed_by_another_hierarchy_marks_only_the_later_issuer(
    con: duckdb.DuckDBPyConnection,
) -> None:
    root_a_key, root_b_key, sub_key = _key(), _key(), _key()
    sub_from_a = _ca_cert(
        "Sub CA", sub_key, "Root A", root_a_key, not_before=datetime(2019, 3, 1, tzinfo=UTC)
    )
    sub_from_b = _ca_cert(
        "Sub CA", sub_key, "Root B", root_b_key, not_before=datetime(2020, 3, 1, tzinfo=UTC)
    )
    warehouse.store_certificates(
        con,
        [_root("Root A", root_a_key), _root("Root B", root_b_key), sub_from_a, sub_from_b],
        source="file:test",
    )

    assert warehouse.mark_cross_certificates(con) == 1
    assert _marked(con) == {sub_from_b.der_sha256}


def test_cross_signed_root_marks_the_other_issuer_even_when_it_came_first(
    con: duckdb.DuckDBPyConnection,
) -> None:
    root_1_key, root_2_key = _key(), _key()
    root_2 = _root("Root 2", root_2_key)
    # a self-issued certificate makes the subject its own chain; notBefore does not matter then
    root_2_by_root_1 = _ca_cert(
        "Root 2", root_2_key, "Root 1", root_1_key, not_before=datetime(2018, 1, 1, tzinfo=UTC)
    )
    warehouse.store_certificates(
        con, [_root("Root 1", root_1_key), root_2, root_2_by_root_1], source="file:test"
    )

    assert warehouse.mark_cross_certificates(con) == 1
    assert _marked(con) == {root_2_by_root_1.der_sha256}


def test_reissues_by_the_same_issuer_are_not_cross_certificates(con: duckdb.DuckDBPyConnection) -> None:
    root_key, sub_key = _key(), _key()
    issued = _ca_cert("Sub CA", sub_key, "Root", root_key, not_before=datetime(2019, 3, 1, tzinfo=UTC))
    reissued = _ca_cert("Sub CA", sub_key, "Root", root_key, not_before=datetime(2020, 7, 1, tzinfo=UTC))
    assert issued.serial_hex != reissued.serial_hex
    warehouse.store_certificates(con, [_root("Root", root_key), issued, reissued], source="file:test")

    assert warehouse.mark_cross_certificates(con) == 0


def test_issuers_with_the_same_earliest_not_before_are_all_originals(con: duckdb.DuckDBPyConnection) -> None:
    root_a_key, root_b_key, sub_key = _key(), _key(), _key()
    sub_from_a = _ca_cert("Sub CA", sub_key, "Root A", root_a_key)
    sub_from_b = _ca_cert("Sub CA", sub_key, "Root B", root_b_key)
    warehouse.store_certificates(con, [sub_from_a, sub_from_b], source="file:test")

    assert warehouse.mark_cross_certificates(con) == 0


def test_issuer_higher_up_the_own_chain_is_not_a_cross_signer(con: duckdb.DuckDBPyConnection) -> None:
    root_key, intermediate_key, sub_key = _key(), _key(), _key()
    intermediate = _ca_cert("Intermediate", intermediate_key, "Root", root_key)
    sub_from_intermediate = _ca_cert(
        "Sub CA", sub_key, "Intermediate", intermediate_key, not_before=datetime(2019, 3, 1, tzinfo=UTC)
    )
    sub_from_root = _ca_cert("Sub CA", sub_key, "Root", root_key, not_before=datetime(2020, 3, 1, tzinfo=UTC))
    warehouse.store_certificates(
        con, [_root("Root", root_key), intermediate, sub_from_intermediate, sub_from_root], source="file:test"
    )

    assert warehouse.mark_cross_certificates(con) == 0


def test_own_chain_is_walked_six_issuer_names_up(con: duckdb.DuckDBPyConnection) -> None:
    # Sub CA <- Level 1 <- Level 2 <- ... <- Level 7: Level 1 to Level 6 are within reach.
    keys = [_key() for _ in range(8)]
    names = ["Sub CA"] + [f"Level {level}" for level in range(1, 8)]
    hierarchy = [_ca_cert(names[i], keys[i], names[i + 1], keys[i + 1]) for i in range(1, 7)]
    sub_key = keys[0]
    original = _ca_cert("Sub CA", sub_key, "Level 1", keys[1], not_before=datetime(2019, 3, 1, tzinfo=UTC))
    later = datetime(2020, 3, 1, tzinfo=UTC)
    from_level_6 = _ca_cert("Sub CA", sub_key, "Level 6", keys[6], not_before=later)
    from_level_7 = _ca_cert("Sub CA", sub_key, "Level 7", keys[7], not_before=later)
    warehouse.store_certificates(con, [*hierarchy, original, from_level_6, from_level_7], source="file:test")

    assert warehouse.mark_cross_certificates(con) == 1
    assert _marked(con) == {from_level_7.der_sha256}


def test_a_cross_signer_that_joins_the_own_chain_unmarks_the_certificate(
    con: duckdb.DuckDBPyConnection,
) -> None:
    root_a_key, root_b_key, sub_key = _key(), _key(), _key()
    sub_from_b = _ca_cert(
        "Sub CA", sub_key, "Root B", root_b_key, not_before=datetime(2020, 3, 1, tzinfo=UTC)
    )
    warehouse.store_certificates(
        con,
        [
            _root("Root A", root_a_key),
            _root("Root B", root_b_key),
            _ca_cert("Sub CA", sub_key, "Root A", root_a_key, not_before=datetime(2019, 3, 1, tzinfo=UTC)),
            sub_from_b,
        ],
        source="file:test",
    )
    assert warehouse.mark_cross_certificates(con) == 1
    assert _marked(con) == {sub_from_b.der_sha256}

    # Once B certifies Root A, Root B is above the sub-CA's original issuer: part of its own chain.
    root_a_by_b = _ca_cert("Root A", root_a_key, "Root B", root_b_key)
    warehouse.store_certificates(con, [root_a_by_b], source="file:test")
    assert warehouse.mark_cross_certificates(con) == 1
    assert _marked(con) == {root_a_by_b.der_sha256}
