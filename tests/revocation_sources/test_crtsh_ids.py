"""crt.sh IDs in the warehouse: ingest_crtsh against the simulator records every ID a search
returned (with the SHA-256 of what it downloaded, else the serial and notBefore), keeps the
earliest observation, and a bug naming an ID resolves to the certificate; import_crtsh_csv records
the CSV's IDs with its SHA-256 column."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.evaluate.mentions import CertificateMention, certificate_mentions
from ctwatch.evidence.bugzilla import Bug, BugComment
from ctwatch.revocation.config import Source
from ctwatch.revocation.crtsh_csv import import_crtsh_csv
from ctwatch.revocation.crtsh_searches import ingest_crtsh
from ctwatch.sim.crtsh_index import CrtShCert
from ctwatch.sim.server import SimulatorRunning
from ctwatch.warehouse import observations
from ctwatch.x509 import ParsedCert, analyse_der
from tests.revocation_sources.conftest import sim_locations

pytestmark = pytest.mark.integration

IDENTITY = "%.secom-nocheck.secom.example"
SEARCH_URL = "/crtsh/?identity=%25.secom-nocheck.secom.example"
AS_OF = datetime(2020, 7, 21, tzinfo=UTC)
EARLIER = datetime(2020, 7, 14, tzinfo=UTC)


def _listed(sim: SimulatorRunning, as_of: datetime) -> list[CrtShCert]:
    """What the scenario's crt.sh returns for IDENTITY at `as_of`: known by then, unexpired."""
    return [
        c
        for c in sim.world.revocations.crtsh_certs
        if c.known_from_ms <= as_of.timestamp() * 1000
        and c.not_after > as_of
        and any(i.endswith(".secom-nocheck.secom.example") for i in c.identities)
    ]


def _crtsh_ids(path: Path) -> list[tuple[object, ...]]:
    con = warehouse.connect(path, read_only=True)
    try:
        return con.execute(
            "SELECT crtsh_id, der_sha256, serial_hex, not_before, first_observed_at, location "
            "FROM crtsh_certificate_ids ORDER BY crtsh_id"
        ).fetchall()
    finally:
        con.close()


def test_ingest_crtsh_records_every_id_it_saw(sim: SimulatorRunning, tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    locations = sim_locations(sim)
    listed = _listed(sim, AS_OF)
    assert len(listed) > 10
    summary = ingest_crtsh(path, locations, [IDENTITY], as_of=AS_OF)
    assert (summary.rows, summary.new_certificates, summary.errors) == (len(listed), len(listed), 0)
    location = locations.url(Source.CRTSH).removesuffix("/crtsh/") + SEARCH_URL
    expected = [
        (c.id, hashlib.sha256(c.der).hexdigest(), format(c.serial, "x"), c.not_before, AS_OF, location)
        for c in sorted(listed, key=lambda c: c.id)
    ]
    assert _crtsh_ids(path) == expected

    # a later run downloads nothing (all stored) and changes nothing; an earlier one moves the
    # first observation of the IDs crt.sh knew then back to it
    again = ingest_crtsh(path, locations, [IDENTITY], as_of=AS_OF)
    assert again.new_certificates == 0
    assert _crtsh_ids(path) == expected
    known_earlier = {c.id for c in _listed(sim, EARLIER)}
    assert 0 < len(known_earlier) < len(listed)
    ingest_crtsh(path, locations, [IDENTITY], as_of=EARLIER)
    assert _crtsh_ids(path) == [
        (*row[:4], EARLIER if row[0] in known_earlier else AS_OF, row[5]) for row in expected
    ]


def test_an_id_of_a_stored_certificate_is_kept_by_serial_and_resolves_a_bug_mention(
    sim: SimulatorRunning, tmp_path: Path
) -> None:
    path = tmp_path / "w.duckdb"
    stored = _listed(sim, AS_OF)[0]
    parsed = analyse_der(stored.der)
    assert isinstance(parsed, ParsedCert)
    con = warehouse.connect(path)
    try:
        warehouse.store_certificates(con, [parsed], source="file:test")
    finally:
        con.close()
    ingest_crtsh(path, sim_locations(sim), [IDENTITY], as_of=AS_OF)
    (row,) = [r for r in _crtsh_ids(path) if r[0] == stored.id]
    assert row[1:4] == (None, format(stored.serial, "x"), stored.not_before)  # not downloaded

    filed = datetime(2020, 7, 22, tzinfo=UTC)
    bug = Bug(
        bug_id=42, summary="SECOM: OCSP responders", whiteboard="[ca-revocation-delay]", product=None,
        component=None, status="NEW", resolution=None, assigned_to=None, creator=None, creation_time=filed,
        last_change_time=None, revocation_delay_tags=("ca-revocation-delay",), ca_owner=None,
    )  # fmt: skip
    comment = BugComment(4200, 42, 0, "ca@example.org", filed, False, f"See https://crt.sh/?id={stored.id}")
    con = warehouse.connect(path)
    try:
        observations.store_bugs(con, [bug], observed_at=filed, location="search")
        observations.store_bug_comments(
            con, 42, [comment], [], fetched_at=filed, new_since=None, location="f"
        )
        mentions = certificate_mentions(con, [42], [parsed.der_sha256], filed)
    finally:
        con.close()
    assert mentions == [CertificateMention(42, parsed.der_sha256, filed, "crtsh_id", "comment 0")]


def test_import_crtsh_csv_records_the_ids_with_their_sha256(tmp_path: Path) -> None:
    revoked, listed = "ab" * 32, "cd" * 32
    csv_file = tmp_path / "ocsp_signing_ca.csv"
    csv_file.write_text(
        "crtsh_id,sha256,serial_hex,revocation_date,reason_code,last_seen_check_date,crl_last_checked\n"
        f"12,{revoked},0a,2020-07-05 00:00:00,4,2020-08-01 10:00:00,2020-08-02 00:00:00\n"
        f"13,{listed.upper()},0b,,,,2020-08-02 00:00:00\n"
        f"x14,{'ef' * 32},0c,,,,\n"
    )
    path = tmp_path / "w.duckdb"
    queried_at = datetime(2020, 8, 2, 12, tzinfo=UTC)
    summary = import_crtsh_csv(path, csv_file, queried_at=queried_at)
    assert (summary.sightings, summary.record_errors) == (3, 1)
    assert _crtsh_ids(path) == [
        (12, revoked, None, None, queried_at, str(csv_file)),
        (13, listed, None, None, queried_at, str(csv_file)),
    ]
    con = warehouse.connect(path, read_only=True)
    try:
        errors = con.execute("SELECT record_ref, error FROM revocation_source_errors").fetchall()
    finally:
        con.close()
    assert errors == [(f"sha256 {'ef' * 32}", "no usable crt.sh id: 'x14'")]
