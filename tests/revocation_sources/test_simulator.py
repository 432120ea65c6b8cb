"""Every source against the simulator (real response shapes, answers as of the request), and the
disagreement findings with their exact evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from cryptography import x509

from ctwatch import warehouse
from ctwatch.evidence.revocation import SightingStatus, StampKind
from ctwatch.revocation.config import Source
from ctwatch.revocation.daily_lists import ingest_daily_lists
from ctwatch.revocation.disagreements import find_disagreements, store_disagreements
from ctwatch.sim.server import SimulatorRunning
from ctwatch.sources import crtsh, ocsp
from ctwatch.sources.http import HttpClient, Politeness
from ctwatch.warehouse import observations
from tests.ingest.conftest import store_world_ca_certs
from tests.revocation_sources.conftest import sim_locations

pytestmark = pytest.mark.integration
T = datetime


def _cert(sim: SimulatorRunning, cert_id: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(sim.world.ca_certs[cert_id].der)


def _ocsp_url(sim: SimulatorRunning, cert_id: str) -> str:
    cert = _cert(sim, cert_id)
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    url = next(
        d.access_location.value for d in aia if d.access_method == x509.AuthorityInformationAccessOID.OCSP
    )
    return sim_locations(sim).rewrite(url)


def _client(as_of: datetime) -> HttpClient:
    return HttpClient(Politeness(requests_per_second=1000.0, timeout_s=10.0), as_of=as_of)


@pytest.mark.parametrize(
    ("method", "cert_id_hash"), [(ocsp.Method.POST, "sha1"), (ocsp.Method.GET, "sha256")]
)
def test_ocsp_answer_signed_by_a_ca_certificate_is_flagged(
    sim: SimulatorRunning, method: ocsp.Method, cert_id_hash: str
) -> None:
    as_of = T(2020, 7, 20, 7, 30, tzinfo=UTC)
    answer = ocsp.query(
        _client(as_of), _cert(sim, "jprs-dv-g3"), _cert(sim, "secom-root"), _ocsp_url(sim, "jprs-dv-g3"),
        method=method, cert_id_hash=cert_id_hash,
    )  # fmt: skip
    assert answer.error is None
    assert answer.signature_valid is True
    assert answer.cert_status == SightingStatus.REVOKED
    assert answer.revocation_time == T(2020, 7, 5, tzinfo=UTC)
    assert answer.revocation_reason == "superseded"
    assert answer.this_update == T(2020, 7, 20, 7, tzinfo=UTC)
    assert answer.signer == "delegated"
    assert answer.signer_der_sha256 == sim.world.ca_certs["secom-nocheck"].der_sha256
    assert "responder_is_ca" in answer.findings
    snapshot = ocsp.answer_snapshot(answer, observed_at=as_of, stamp_kind=StampKind.AS_OF)
    assert snapshot.sightings[0].detail["findings"] == list(answer.findings)


def test_ocsp_wrong_issuer_is_an_error_not_an_answer(sim: SimulatorRunning) -> None:
    as_of = T(2020, 7, 20, 7, 30, tzinfo=UTC)
    answer = ocsp.query(
        _client(as_of),
        _cert(sim, "jprs-dv-g3"),
        _cert(sim, "example-root"),
        _ocsp_url(sim, "jprs-dv-g3"),
    )
    assert answer.cert_status is None
    assert answer.error is not None


def test_crtsh_cap_is_split_never_silently_truncated(sim: SimulatorRunning) -> None:
    client = _client(T(2021, 5, 1, tzinfo=UTC))
    url = sim_locations(sim).url(Source.CRTSH)
    capped = client.get(url, json.loads, params={"identity": "%", "output": "json"})
    assert len(capped) == 500  # the scenario's result limit
    result = crtsh.search_identity(client, url, "%", exclude_expired=False, result_limit=500, max_queries=400)
    assert len(result.rows) > 500
    assert result.truncated == []
    one = next(iter(result.rows.values()))
    pem = crtsh.download(client, url, str(one.crtsh_id))
    assert pem is not None
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    limited = crtsh.search_identity(client, url, "%", exclude_expired=False, result_limit=500, max_queries=3)
    assert limited.truncated  # out of budget: reported, not dropped


def _warehouse_with_sim_cas(sim: SimulatorRunning, path: Path) -> duckdb.DuckDBPyConnection:
    con = warehouse.connect(path)
    store_world_ca_certs(con, sim.world)
    return con


def _crl_observation(
    con: duckdb.DuckDBPyConnection, sim: SimulatorRunning, cert_id: str, claimed: datetime, first: datetime
) -> None:
    """A 'crl' row as ctwatch's CRL archive writes it (issuer name + serial)."""
    cert = _cert(sim, cert_id)
    con.execute(
        "INSERT INTO revocation_observations (issuer_name_der, serial_hex, source, observer, "
        "revoked_at_claimed, reason, first_observed_at, last_observed_at, evidence_sha256, evidence_ref) "
        "VALUES (?, ?, 'crl', 'ctwatch', ?, 'superseded', ?, ?, 'crlhash', "
        "'http://crl.secom.example/secom-root.crl')",
        [cert.issuer.public_bytes(), format(cert.serial_number, "x"), claimed, first, first],
    )


def test_daily_lists_and_disagreements_with_exact_evidence(sim: SimulatorRunning, tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    con = _warehouse_with_sim_cas(sim, path)
    jprs = sim.world.ca_certs["jprs-dv-g3"].der_sha256
    r1 = sim.world.ca_certs["jprs-dv-g3.r1"].der_sha256
    r2 = sim.world.ca_certs["jprs-dv-g3.r2"].der_sha256
    _crl_observation(con, sim, "jprs-dv-g3", T(2020, 7, 5, tzinfo=UTC), T(2020, 7, 20, 6, tzinfo=UTC))
    _crl_observation(con, sim, "jprs-dv-g3.r2", T(2020, 7, 15, tzinfo=UTC), T(2020, 7, 15, 1, tzinfo=UTC))
    con.close()
    locations = sim_locations(sim)

    # CCADB, Mozilla, OneCRL, CRLSet as of two days: CCADB says Not Revoked for jprs-dv-g3 until 07-27
    for day in (T(2020, 7, 22, tzinfo=UTC), T(2020, 8, 5, tzinfo=UTC)):
        summary = ingest_daily_lists(path, locations, as_of=day)
        assert summary.fetch_errors == []
        assert summary.record_errors == 0
        assert summary.snapshots == 4
    # OCSP for r2 keeps saying good while the CRL lists it
    answer = ocsp.query(
        _client(T(2020, 7, 22, tzinfo=UTC)), _cert(sim, "jprs-dv-g3.r2"), _cert(sim, "secom-root"),
        _ocsp_url(sim, "jprs-dv-g3.r2"),
    )  # fmt: skip
    assert answer.cert_status == SightingStatus.GOOD
    con = warehouse.connect(path)
    observations.store_snapshot(
        con, ocsp.answer_snapshot(answer, observed_at=T(2020, 7, 22, tzinfo=UTC), stamp_kind=StampKind.AS_OF)
    )
    observations.refresh_observations(con, "ocsp")

    # OneCRL: Mozilla's action times, by issuer+serial (jprs-dv-g3) and by subject key (r1)
    # (the subject+key record blocks every certificate with that subject and key: the key group)
    onecrl = set(
        con.execute(
            "SELECT certificate_der_sha256, first_observed_at FROM revocation_observations_by_certificate "
            "WHERE source = 'onecrl'"
        ).fetchall()
    )
    assert onecrl == {
        (jprs, T(2020, 7, 28, 10, tzinfo=UTC)),
        *((sha, T(2020, 8, 3, 9, tzinfo=UTC)) for sha in (jprs, r1, r2)),
    }
    # CCADB status change observed between the two snapshots
    ccadb_row = con.execute(
        "SELECT first_observed_at, last_observed_absent_at FROM revocation_observations "
        "WHERE source = 'ccadb' AND der_sha256 = ?",
        [jprs],
    ).fetchone()
    assert ccadb_row == (T(2020, 8, 5, tzinfo=UTC), T(2020, 7, 22, tzinfo=UTC))

    found = {(d.kind, d.der_sha256): d for d in find_disagreements(con, T(2020, 7, 23, tzinfo=UTC))}
    ccadb_evidence = found[("crl_revoked_ccadb_not_revoked", jprs)]
    assert ccadb_evidence.revoked_side == {
        "source": "crl",
        "observer": "ctwatch",
        "revoked_at_claimed": "2020-07-05T00:00:00+00:00",
        "reason": "superseded",
        "first_observed_at": "2020-07-20T06:00:00+00:00",
        "evidence_sha256": "crlhash",
        "evidence_ref": "http://crl.secom.example/secom-root.crl",
    }
    assert ccadb_evidence.other_side["source"] == "ccadb"
    assert ccadb_evidence.other_side["status"] == "Not Revoked"
    assert ccadb_evidence.other_side["observed_at"] == "2020-07-22T00:00:00+00:00"
    assert ccadb_evidence.other_side["evidence_ref"] == locations.url(Source.CCADB)
    ocsp_evidence = found[("ocsp_good_crl_revoked", r2)]
    assert ocsp_evidence.revoked_side["first_observed_at"] == "2020-07-15T01:00:00+00:00"
    assert ocsp_evidence.other_side["status"] == "good"
    assert ocsp_evidence.other_side["observed_at"] == "2020-07-22T00:00:00+00:00"
    assert ocsp_evidence.other_side["evidence_sha256"] == answer.response_sha256
    # r2 is on the CRL from 2020-07-15 and CCADB never shows it revoked
    assert found[("crl_revoked_ccadb_not_revoked", r2)].other_side["status"] == "Not Revoked"
    assert set(found) == {
        ("crl_revoked_ccadb_not_revoked", jprs),
        ("crl_revoked_ccadb_not_revoked", r2),
        ("ocsp_good_crl_revoked", r2),
    }

    # by 2020-08-05 CCADB agrees, OneCRL blocks r1 which no CA channel we watched showed revoked
    first = store_disagreements(con, T(2020, 7, 23, tzinfo=UTC))
    assert (first.found, first.opened, first.resolved) == (3, 3, 0)
    assert store_disagreements(con, T(2020, 7, 23, tzinfo=UTC)).opened == 0  # same as_of: no change
    later = store_disagreements(con, T(2020, 8, 5, tzinfo=UTC))
    kinds = dict(
        con.execute(
            "SELECT kind || ':' || der_sha256, resolved_as_of FROM revocation_disagreements"
        ).fetchall()
    )
    assert kinds[f"crl_revoked_ccadb_not_revoked:{jprs}"] == T(2020, 8, 5, tzinfo=UTC)
    assert kinds[f"ocsp_good_crl_revoked:{r2}"] is None
    assert kinds[f"crl_revoked_ccadb_not_revoked:{r2}"] is None
    assert kinds[f"onecrl_without_ca_revocation:{r1}"] is None
    onecrl_only = json.loads(
        con.execute(
            "SELECT revoked_side FROM revocation_disagreements WHERE kind = 'onecrl_without_ca_revocation' "
            "AND der_sha256 = ?",
            [r1],
        ).fetchone()[0]
    )
    assert onecrl_only["source"] == "onecrl"
    assert onecrl_only["first_observed_at"] == "2020-08-03T09:00:00+00:00"
    assert later.resolved == 1
    con.close()
