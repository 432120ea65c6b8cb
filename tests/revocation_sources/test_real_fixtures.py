"""Each revocation source parsed from real data (tests/fixtures/real), matched to real certificates."""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from cryptography import x509

from ctwatch import warehouse
from ctwatch.evidence.ccadb import CcadbReport
from ctwatch.evidence.revocation import SightingStatus, StampKind
from ctwatch.sources import bugzilla, ccadb, crlset, ocsp, onecrl
from ctwatch.warehouse import observations
from ctwatch.x509 import ParsedCert, analyse_bytes
from tests.conftest import FIXTURES

REAL = FIXTURES / "real"
CRLSETS = REAL / "onecrl" / "chrome_crlset"
FETCHED = datetime(2026, 11, 27, 12, tzinfo=UTC)
ESTEID = "3864d6c1001f00c4"  # ESTEID-SK 2011, listed in the 2021 CRLSets
DARKMATTER = "e0a670f4f1057e91"  # DarkMatter High Assurance CA, its key in BlockedSPKIs


def _certs(*folders: str) -> list[ParsedCert]:
    found: list[ParsedCert] = []
    for folder in folders:
        for path in sorted((REAL / "ca_certs" / folder).glob("*.pem")):
            found.extend(c for c in analyse_bytes(path.read_bytes()) if isinstance(c, ParsedCert))
    return found


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.store_certificates(connection, _certs("ocsp_eku_positive", "controls"), source="test")
    yield connection
    connection.close()


def _matched(con: duckdb.DuckDBPyConnection, source: str) -> set[str]:
    rows = con.execute(
        "SELECT DISTINCT certificate_der_sha256 FROM revocation_observations_by_certificate WHERE source = ?",
        [source],
    ).fetchall()
    return {r[0][:16] for r in rows}


def test_onecrl_snapshot_matches_real_certificates_by_issuer_and_serial(
    con: duckdb.DuckDBPyConnection,
) -> None:
    body = (REAL / "onecrl" / "onecrl_snapshot_2018-05-30_zcrypto.json").read_bytes()
    snapshot = onecrl.parse_records(body, location="fixture", observed_at=FETCHED, stamp_kind=StampKind.FETCH)
    # 18 of the 753 records are disabled: they block nothing
    assert len(snapshot.sightings) == 735
    assert snapshot.errors == ()
    stored = observations.store_snapshot(con, snapshot)
    assert stored.new
    assert stored.sightings == 735
    # one issuer+serial is listed by two records: one observation
    assert observations.refresh_observations(con, "onecrl") == 734
    assert _matched(con, "onecrl") == {
        "7c99c3984bd948b1",
        "97d0b19e6a8865e0",
        "1b4c8f43a0b68984",
        "1b930549ab8cd950",
    }
    # Mozilla's action time, not the CA's: details.created, no claimed revocation time
    row = con.execute(
        "SELECT revoked_at_claimed, first_observed_at, last_observed_at, last_observed_absent_at, observer "
        "FROM revocation_observations_by_certificate WHERE certificate_der_sha256 LIKE '1b930549ab8cd950%'"
    ).fetchone()
    assert row == (None, datetime(2017, 1, 31, 23, 6, 38, tzinfo=UTC), FETCHED, None, "onecrl")
    assert not observations.store_snapshot(con, snapshot).new  # the same bytes at the same time


def test_onecrl_subject_key_form_and_bad_records() -> None:
    cert = next(c for c in _certs("ocsp_eku_positive") if c.der_sha256.startswith(ESTEID))
    assert cert.subject_der is not None
    assert cert.spki_sha256 is not None
    records = {
        "data": [
            {
                "id": "k1",
                "subject": base64.b64encode(cert.subject_der).decode(),
                "pubKeyHash": base64.b64encode(bytes.fromhex(cert.spki_sha256)).decode(),
                "details": {"created": "2020-08-03T09:00:00Z"},
                "last_modified": 1596445500000,
                "enabled": True,
            },
            {"id": "bad", "issuerName": "!!", "serialNumber": "AQ==", "details": {}},
            {"id": "neither", "details": {}},
        ]
    }
    snapshot = onecrl.parse_records(
        json.dumps(records).encode(), location="x", observed_at=FETCHED, stamp_kind=StampKind.FETCH
    )
    (sighting,) = snapshot.sightings
    assert sighting.subject_spki_sha256 == cert.spki_sha256
    assert sighting.subject_name_der == cert.subject_der
    assert sighting.source_action_at == datetime(2020, 8, 3, 9, tzinfo=UTC)
    assert sighting.source_modified_at == datetime(2020, 8, 3, 9, 5, tzinfo=UTC)
    assert [e.record_ref for e in snapshot.errors] == ["bad", "neither"]


def test_crlsets_parse_and_crx3_holds_the_same_crlset() -> None:
    parsed = {p.name: crlset.parse_crlset(p.read_bytes()) for p in CRLSETS.iterdir()}
    summary = {
        name: (c.sequence, len(c.revoked), sum(map(len, c.revoked.values())), len(c.blocked_spki_sha256))
        for name, c in parsed.items()
    }
    assert summary == {
        "APm1SaUzZaPllaSDuZS5yng_zcrypto": (6376, 188, 928, 28),
        "crl-set-6375_zcrypto": (6375, 188, 928, 28),
        "test_crlset_zcrypto": (4619, 134, 541, 33),
    }
    assert all(len(spki) == 64 for c in parsed.values() for spki in c.revoked)


def test_crlset_matches_by_issuer_key_and_serial_and_by_blocked_key(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # the issuer of ESTEID-SK 2011 is the EE Certification Centre Root CA (also a fixture)
    data = (CRLSETS / "crl-set-6375_zcrypto").read_bytes()
    snapshot = crlset.crlset_snapshot(
        data, location="crl-set-6375", observed_at=FETCHED, stamp_kind=StampKind.FETCH
    )
    observations.store_snapshot(con, snapshot)
    observations.refresh_observations(con, "crlset")
    assert _matched(con, "crlset") == {ESTEID, DARKMATTER}


def test_crlset_truncated_is_a_recorded_error() -> None:
    data = (CRLSETS / "crl-set-6375_zcrypto").read_bytes()[:-3]
    snapshot = crlset.crlset_snapshot(data, location="cut", observed_at=FETCHED, stamp_kind=StampKind.FETCH)
    assert snapshot.sightings == ()
    assert "truncated" in snapshot.errors[0].error


def test_ccadb_raw_header_is_kept_exactly_and_rows_parse(con: duckdb.DuckDBPyConnection) -> None:
    path = REAL / "ccadb" / "raw_csv_format_samples_ccadb-utils" / "AllCertificateRecordsCSVFormat.test.csv"
    body = path.read_bytes()
    report = ccadb.parse_all_records(
        body, location=str(path), observed_at=FETCHED, stamp_kind=StampKind.FETCH
    )
    assert report.snapshot.raw_header == body.decode().split("\n", 1)[0].rstrip("\r")
    assert report.snapshot.errors == ()
    record = report.records[0]
    assert record.ca_owner == "QuoVadis"
    assert record.record_type == "Intermediate Certificate"
    assert record.der_sha256 == "c0ee0cced463096df07d27257af79c986ff92b678f669c109fff570f32ab433f"
    assert record.revocation_status == "Not Revoked"
    assert record.mozilla_status == "Provided by CA"
    assert record.root_status is not None
    assert record.root_status.startswith("Apple: Included")
    assert record.derived_trust_bits == "Client Authentication;Secure Email;Document Signing"
    assert str(record.valid_from) == "2023-03-14"
    assert record.technically_constrained is False
    assert record.partitioned_crl_urls == (
        "http://crl.digicert.eu/DigiCertQuoVadisG3QualifiedBEitsmeRSA4096SHA2562023CA1.crl",
    )
    assert [s.status for s in report.snapshot.sightings] == [SightingStatus.NOT_REVOKED]
    stored = observations.store_snapshot(con, report.snapshot, ccadb_records=report.records)
    header = con.execute(
        "SELECT raw_header FROM revocation_snapshots WHERE id = ?", [stored.snapshot_id]
    ).fetchone()
    assert header == (report.snapshot.raw_header,)


def test_ccadb_not_a_report_is_recorded() -> None:
    report = ccadb.parse_all_records(
        b"<html>down</html>\n", location="x", observed_at=FETCHED, stamp_kind=StampKind.FETCH
    )
    assert report.records == ()
    assert "columns missing" in report.snapshot.errors[0].error


def test_archived_snapshots_are_dated_by_file_name(tmp_path: Path) -> None:
    sample = REAL / "ccadb" / "raw_csv_format_samples_ccadb-utils" / "AllCertificateRecordsCSVFormat.test.csv"
    (tmp_path / "2020-07-27_AllCertificateRecords.csv").write_bytes(sample.read_bytes())
    (tmp_path / "2020-07-01.csv").write_bytes(sample.read_bytes())
    (tmp_path / "2020-07-02-other.csv").write_bytes(b"a,b\n1,2\n")
    (tmp_path / "notes.txt").write_text("ignored")
    items = list(ccadb.archived_snapshots(tmp_path))
    dates = [i.snapshot.observed_at for i in items if isinstance(i, CcadbReport)]
    assert dates == [datetime(2020, 7, 1, tzinfo=UTC), datetime(2020, 7, 27, tzinfo=UTC)]
    assert all(i.snapshot.stamp_kind == StampKind.ARCHIVE for i in items if isinstance(i, CcadbReport))
    assert [i.record_ref for i in items if isinstance(i, ccadb.RecordError)] == [
        str(tmp_path / "2020-07-02-other.csv")
    ]


def test_mozilla_revoked_dates_are_date_only_utc() -> None:
    body = (
        '"CA Owner","Revocation Status","RFC 5280 Revocation Reason Code","Date of Revocation",'
        '"OneCRL Status",'
        '"Certificate Serial Number","SHA-256 Fingerprint"\r\n'
        f'"SECOM","Revoked","(4) superseded","2020 Jul 27","Added to OneCRL","0A","{"AB" * 32}"\r\n'
        f'"SECOM","Revoked","","2020-07-28","","0B","{"CD" * 32}"\r\n'
        '"SECOM","Revoked","","2020-07-28","","0C","not-a-hash"\r\n'
    ).encode()
    snapshot = ccadb.parse_mozilla_revoked(
        body, location="x", observed_at=FETCHED, stamp_kind=StampKind.FETCH
    )
    first, second = snapshot.sightings
    assert (first.der_sha256, first.revoked_at_claimed, first.reason) == (
        "ab" * 32,
        datetime(2020, 7, 27, tzinfo=UTC),
        "superseded",
    )
    assert second.revoked_at_claimed == datetime(2020, 7, 28, tzinfo=UTC)
    assert second.reason is None
    assert [e.record_ref for e in snapshot.errors] == ["row 4"]


@pytest.mark.parametrize(
    ("whiteboard", "tags"),
    [
        ("[ca-compliance] [delayed-revocation-ca]", ("delayed-revocation-ca",)),
        ("[ca-compliance] [leaf-revocation-delay] [ov-misissuance]", ("leaf-revocation-delay",)),
        ("[ca-compliance] [ca-revocation-delay]", ("ca-revocation-delay",)),
        ("revocation-delay", ("revocation-delay",)),
        ("[ca-compliance] [delayed-revocation-leaf] Next update 2020-08-01", ("delayed-revocation-leaf",)),
        ("[ca-compliance] [revocation-delayed]", ()),
    ],
)
def test_bugzilla_whiteboard_revocation_delay_tags(whiteboard: str, tags: tuple[str, ...]) -> None:
    assert bugzilla.revocation_delay_tags(whiteboard) == tags


def test_bugzilla_summary_names_the_ca_owner() -> None:
    owners = ["SECOM Trust Systems", "Example Trust", "Sectigo"]
    assert bugzilla.match_ca_owner("SECOM: Intermediate certificates with the OCSP signing EKU", owners) == (
        "SECOM Trust Systems"
    )
    assert bugzilla.match_ca_owner("Example Trust: Delayed revocation", owners) == "Example Trust"
    assert bugzilla.match_ca_owner("Unrelated bug", owners) is None


def test_ocsp_responder_profile_on_real_certificates() -> None:
    def load(folder: str) -> list[tuple[str, x509.Certificate]]:
        return [
            (p.name[:16], x509.load_pem_x509_certificate(p.read_bytes()))
            for p in sorted((REAL / "ca_certs" / folder).glob("*.pem"))
        ]

    # every CA certificate with OCSPSigning would be a responder that is a CA: the 2020 danger
    assert all("responder_is_ca" in ocsp.responder_findings(c) for _, c in load("ocsp_eku_positive"))
    responders = {name: ocsp.responder_findings(c) for name, c in load("ocsp_responders")}
    assert not any("responder_is_ca" in f for f in responders.values())
    assert sum("responder_without_nocheck" not in f for f in responders.values()) == 6


def _esteid_and_issuer() -> tuple[x509.Certificate, x509.Certificate]:
    certs = {
        p.name[:16]: x509.load_pem_x509_certificate(p.read_bytes())
        for p in (REAL / "ca_certs").rglob("*.pem")
    }
    cert = certs[ESTEID]
    return cert, next(c for c in certs.values() if c.subject == cert.issuer)


def test_ocsp_request_carries_the_asked_cert_id_hash() -> None:
    cert, issuer = _esteid_and_issuer()
    for name, size in (("sha1", 20), ("sha256", 32)):
        request = x509.ocsp.load_der_ocsp_request(ocsp.build_request(cert, issuer, name))
        assert request.serial_number == cert.serial_number
        assert len(request.issuer_key_hash) == size
    request_der = ocsp.build_request(cert, issuer, "sha1")
    encoded = ocsp.get_url("http://ocsp.example/", request_der).removeprefix("http://ocsp.example/")
    assert "/" not in encoded
    assert base64.b64decode(urllib.parse.unquote(encoded)) == request_der


def test_ocsp_get_only_for_requests_under_255_bytes_encoded(monkeypatch: pytest.MonkeyPatch) -> None:
    cert, issuer = _esteid_and_issuer()
    real = ocsp.build_request(cert, issuer, "sha256")
    assert ocsp.request_method(real, ocsp.Method.GET) is ocsp.Method.GET
    # zero bytes encode to plain "A"s: 189 give 252 characters, 192 give 256
    assert ocsp.request_method(bytes(189), ocsp.Method.GET) is ocsp.Method.GET
    assert ocsp.request_method(bytes(192), ocsp.Method.GET) is ocsp.Method.POST
    assert ocsp.request_method(bytes(10), ocsp.Method.POST) is ocsp.Method.POST

    sent: list[str] = []

    class Client:
        def get(self, url: str, parse: object) -> bytes:
            sent.append("GET")
            return b""

        def post(self, url: str, body: bytes, parse: object, *, content_type: str) -> bytes:
            sent.append("POST")
            return b""

    monkeypatch.setattr(ocsp, "build_request", lambda *_: bytes(192))
    answer = ocsp.query(Client(), cert, issuer, "http://ocsp.example/", method=ocsp.Method.GET)
    assert sent == ["POST"]
    assert answer.method is ocsp.Method.POST
