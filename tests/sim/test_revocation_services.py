"""The revocation services of the simulator, read with real parsers and compared with the ground truth
at dates around each publication, lag and early removal (scenario: scenarios/small.toml)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from ctwatch.sim.scenario import Fault, FaultKind
from ctwatch.sim.server import SimulatorRunning
from tests.sim.conftest import fetch, fetch_json, parse_crlset

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures" / "real"
SECOM_CRL = "http://crl.secom.example/secom-root.crl"


def _url(sim: SimulatorRunning, stable_url: str) -> str:
    for prefix, local in sim.url_rewrite().items():
        if stable_url.startswith(prefix):
            return local + stable_url[len(prefix) :]
    raise AssertionError(stable_url)


def _truth(sim: SimulatorRunning) -> dict[str, Any]:
    truth: dict[str, Any] = sim.world.ground_truth()["revocation"]
    return truth


def _revocation(sim: SimulatorRunning, cert_id: str) -> dict[str, Any]:
    return next(r for r in _truth(sim)["revocations"] if r["cert_id"] == cert_id)


def _cert(sim: SimulatorRunning, cert_id: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(sim.world.ca_certs[cert_id].der)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _crl(sim: SimulatorRunning, url: str, as_of: str) -> x509.CertificateRevocationList:
    status, headers, body = fetch(_url(sim, url), as_of=as_of)
    assert status == 200, body
    assert headers["Content-Type"] == "application/pkix-crl"
    return x509.load_der_x509_crl(body)


def _serials(crl: x509.CertificateRevocationList) -> set[int]:
    return {entry.serial_number for entry in crl}


# -- CRL --


def test_crl_versions_follow_publication_backdating_and_early_removal(sim: SimulatorRunning) -> None:
    truth = _truth(sim)
    backdated = _revocation(sim, "jprs-dv-g3")
    removed = _revocation(sim, "jprs-dv-g3.r2")
    assert backdated["backdated"] is True
    assert backdated["crl_last_version_without_at"] == "2020-07-20T00:00:00Z"
    root = _cert(sim, "secom-root")
    this_updates = truth["crl_versions"]["secom-root"]["this_updates"]

    before = _crl(sim, SECOM_CRL, "2020-07-20T05:59:59Z")
    assert before.is_signature_valid(root.public_key())  # type: ignore[arg-type]
    assert before.last_update_utc == datetime(2020, 7, 20, tzinfo=UTC)
    assert before.next_update_utc == datetime(2020, 7, 27, tzinfo=UTC)
    number = before.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number == this_updates.index("2020-07-20T00:00:00Z") + 1
    assert int(backdated["serial_hex"], 16) not in _serials(before)
    assert int(removed["serial_hex"], 16) in _serials(before)

    after = _crl(sim, SECOM_CRL, "2020-07-20T06:00:00Z")
    assert after.last_update_utc == _time(backdated["crl_first_listed_at"])
    assert after.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == number + 1
    entry = after.get_revoked_certificate_by_serial_number(int(backdated["serial_hex"], 16))
    assert entry is not None
    assert entry.revocation_date_utc == _time(backdated["revoked_at_claimed"])
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.superseded
    )

    gone = _crl(sim, SECOM_CRL, removed["removed_at"])
    assert int(removed["serial_hex"], 16) not in _serials(gone)
    assert int(backdated["serial_hex"], 16) in _serials(gone)

    status, _, _ = fetch(_url(sim, SECOM_CRL), as_of="2020-06-14T23:59:59Z")
    assert status == 404  # nothing published before the first version


def test_leaf_revocations_are_on_the_issuing_ca_crl(sim: SimulatorRunning) -> None:
    leaves = [r for r in _truth(sim)["revocations"] if not r["is_ca"]]
    assert len(leaves) == 3
    crl = _crl(sim, leaves[0]["crl_url"], "2020-07-01T13:00:00Z")
    assert crl.is_signature_valid(_cert(sim, "example-dv-1").public_key())  # type: ignore[arg-type]
    assert _serials(crl) == {int(r["serial_hex"], 16) for r in leaves}
    assert _serials(_crl(sim, leaves[0]["crl_url"], "2020-07-01T12:59:59Z")) == set()


def test_conditional_get_answers_304_until_a_new_version(sim: SimulatorRunning) -> None:
    url = _url(sim, SECOM_CRL)
    as_of = "2020-07-21T00:00:00Z"
    status, headers, _ = fetch(url, as_of=as_of)
    assert status == 200
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert modified == "Mon, 20 Jul 2020 06:00:00 GMT"
    for condition in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        request = urllib.request.Request(url, headers={"X-Ctwatch-As-Of": as_of, **condition})
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=10)
        assert answer.value.code == 304
    request = urllib.request.Request(
        url, headers={"X-Ctwatch-As-Of": "2020-07-27T00:00:00Z", "If-None-Match": etag}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["ETag"] != etag


def test_partitioned_crl_carries_its_idp_and_its_share_of_serials(sim: SimulatorRunning) -> None:
    versions = _truth(sim)["crl_versions"]["secom-root"]
    full = _crl(sim, SECOM_CRL, "2020-07-21T00:00:00Z")
    seen: set[int] = set()
    for number, url in enumerate(versions["partition_urls"]):
        part = _crl(sim, url, "2020-07-21T00:00:00Z")
        idp = part.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
        assert idp.critical
        assert idp.value.full_name == [x509.UniformResourceIdentifier(url)]
        assert all(serial % 2 == number for serial in _serials(part))
        seen |= _serials(part)
    assert seen == _serials(full)
    assert len(seen) == 3
    with pytest.raises(x509.ExtensionNotFound):
        full.extensions.get_extension_for_class(x509.IssuingDistributionPoint)


def test_crl_faults_use_the_fault_mechanism(sim: SimulatorRunning) -> None:
    sim.set_faults("crl", [Fault(FaultKind.SERVER_ERROR, first=1, status=502)])
    assert fetch(_url(sim, SECOM_CRL))[0] == 502
    assert fetch(_url(sim, SECOM_CRL))[0] == 200
    assert sim.request_count("crl", "crl") == 2


# -- OCSP --


def _ocsp(
    sim: SimulatorRunning,
    cert_id: str,
    issuer_id: str,
    as_of: str,
    *,
    algorithm: hashes.HashAlgorithm,
    get: bool = False,
) -> ocsp.OCSPResponse:
    builder = ocsp.OCSPRequestBuilder().add_certificate(_cert(sim, cert_id), _cert(sim, issuer_id), algorithm)
    request = builder.build().public_bytes(serialization.Encoding.DER)
    base = _url(sim, f"http://{_ocsp_host(sim, issuer_id)}/")
    headers = {"X-Ctwatch-As-Of": as_of}
    if get:
        url = base + urllib.parse.quote(base64.b64encode(request).decode(), safe="")
        http_request = urllib.request.Request(url, headers=headers)
    else:
        headers["Content-Type"] = "application/ocsp-request"
        http_request = urllib.request.Request(base, data=request, headers=headers, method="POST")
    with urllib.request.urlopen(http_request, timeout=10) as response:
        assert response.headers["Content-Type"] == "application/ocsp-response"
        return ocsp.load_der_ocsp_response(response.read())


def _ocsp_host(sim: SimulatorRunning, issuer_id: str) -> str:
    """The responder the issuer's certificates name in their AIA."""
    slug = sim.world.scenario.owner_slug(sim.world.scenario.ca(issuer_id).host_slug_owner)
    return f"ocsp.{slug}.example"


def _verify(response: ocsp.OCSPResponse, signer: x509.Certificate) -> None:
    key = signer.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))


def test_ocsp_delegated_ca_responder_follows_the_crl(sim: SimulatorRunning) -> None:
    truth = _revocation(sim, "jprs-dv-g3")
    delegate = _cert(sim, "secom-nocheck")
    before = _ocsp(sim, "jprs-dv-g3", "secom-root", "2020-07-20T05:00:00Z", algorithm=hashes.SHA1())
    assert before.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert before.certificate_status == ocsp.OCSPCertStatus.GOOD
    after = _ocsp(sim, "jprs-dv-g3", "secom-root", "2020-07-20T07:30:00Z", algorithm=hashes.SHA1(), get=True)
    assert after.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert after.revocation_time_utc == _time(truth["revoked_at_claimed"])
    assert after.revocation_reason == x509.ReasonFlags.superseded
    assert after.this_update_utc == datetime(2020, 7, 20, 7, tzinfo=UTC)
    assert after.produced_at_utc == after.this_update_utc
    assert after.next_update_utc == after.this_update_utc + timedelta(hours=96)
    # Signed by a CA certificate carrying OCSPSigning: the 2020 danger.
    assert after.certificates == [delegate]
    assert after.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(delegate.public_key()).digest
    _verify(after, delegate)
    assert delegate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = delegate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.OCSP_SIGNING in eku
    assert (
        _truth(sim)["ocsp_delegates"]["secom-root"]["der_sha256"]
        == sim.world.ca_certs["secom-nocheck"].der_sha256
    )


def test_ocsp_lag_and_disagreement_with_sha256_cert_ids(sim: SimulatorRunning) -> None:
    lagging = _revocation(sim, "jprs-dv-g3.r1")
    assert lagging["ocsp_revoked_from"] == "2020-07-16T03:00:00Z"
    during = _ocsp(sim, "jprs-dv-g3.r1", "secom-root", "2020-07-15T00:00:00Z", algorithm=hashes.SHA256())
    assert during.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert during.hash_algorithm.name == "sha256"
    later = _ocsp(sim, "jprs-dv-g3.r1", "secom-root", "2020-07-16T03:00:00Z", algorithm=hashes.SHA256())
    assert later.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert later.this_update_utc == _time(lagging["ocsp_revoked_from"])
    # r2 is on the CRL from 2020-07-15T01:00 while OCSP keeps saying good.
    assert _revocation(sim, "jprs-dv-g3.r2")["ocsp_revoked_from"] is None
    disagree = _ocsp(sim, "jprs-dv-g3.r2", "secom-root", "2020-07-20T00:00:00Z", algorithm=hashes.SHA1())
    assert disagree.certificate_status == ocsp.OCSPCertStatus.GOOD


def test_ocsp_issuer_signed_and_unknown(sim: SimulatorRunning) -> None:
    issuer = _cert(sim, "example-root")
    good = _ocsp(sim, "example-dv-1", "example-root", "2020-07-01T00:00:00Z", algorithm=hashes.SHA1())
    assert good.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert good.certificates == []
    _verify(good, issuer)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            hashlib.sha1(issuer.subject.public_bytes()).digest(),
            x509.SubjectKeyIdentifier.from_public_key(issuer.public_key()).digest,
            12345,
            hashes.SHA1(),
        )
        .build()
    )
    url = _url(sim, "http://ocsp.example-trust.example/")
    http_request = urllib.request.Request(
        url, data=request.public_bytes(serialization.Encoding.DER), method="POST"
    )
    with urllib.request.urlopen(http_request, timeout=10) as response:
        unknown = ocsp.load_der_ocsp_response(response.read())
    assert unknown.certificate_status == ocsp.OCSPCertStatus.UNKNOWN


# -- CCADB and Mozilla's revoked-intermediates report --


def _csv_rows(sim: SimulatorRunning, path: str, as_of: str) -> tuple[list[str], list[dict[str, str]]]:
    status, headers, body = fetch(sim.base_url + path, as_of=as_of)
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(body.decode()))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def test_ccadb_all_records_header_rows_and_lagging_status(sim: SimulatorRunning) -> None:
    sample = (
        FIXTURES / "ccadb" / "raw_csv_format_samples_ccadb-utils" / "AllCertificateRecordsCSVFormat.test.csv"
    )
    real_header_line = sample.read_text().splitlines()[0]
    status, _, body = fetch(sim.base_url + "/ccadb/AllCertificateRecordsCSVFormatV5")
    assert status == 200
    assert body.decode().splitlines()[0] == real_header_line

    _header, rows = _csv_rows(sim, "/ccadb/AllCertificateRecordsCSVFormatV5", "2020-07-26T23:59:59Z")
    by_sha = {r["SHA-256 Fingerprint"]: r for r in rows}
    truth = {c["der_sha256"].upper(): c for c in sim.world.ground_truth()["ca_certificates"]}
    assert set(by_sha) == set(truth)  # the re-issues of 2020-07-10 are disclosed by then
    g3 = by_sha[_revocation(sim, "jprs-dv-g3")["der_sha256"].upper()]
    assert g3["Revocation Status"] == "Not Revoked"
    assert g3["CA Owner"] == "SECOM Trust Systems"
    assert g3["Subordinate CA Owner"] == "JPRS"
    assert g3["Parent SHA-256 Fingerprint"] == sim.world.ca_certs["secom-root"].der_sha256.upper()
    assert (
        g3["Status of Root Cert"]
        == "Apple: Included; Google Chrome: Included; Microsoft: Included; Mozilla: Included"
    )
    root = by_sha[sim.world.ca_certs["secom-root"].der_sha256.upper()]
    assert root["Certificate Record Type"] == "Root Certificate"
    assert root["Full CRL Issued By This CA"] == ""
    assert json.loads(root["JSON Array of Partitioned CRLs"]) == [
        "http://crl.secom.example/secom-root-p0.crl"
    ]
    r2 = by_sha[sim.world.ca_certs["example-root2"].der_sha256.upper()]
    assert (r2["Mozilla Status"], r2["Microsoft Status"]) == ("Included", "Not Included")

    _, later = _csv_rows(sim, "/ccadb/AllCertificateRecordsCSVFormatV5", "2020-07-27T00:00:00Z")
    assert {r["SHA-256 Fingerprint"]: r for r in later}[g3["SHA-256 Fingerprint"]][
        "Revocation Status"
    ] == "Revoked"
    _, early = _csv_rows(sim, "/ccadb/AllCertificateRecordsCSVFormatV5", "2020-07-01T00:00:00Z")
    assert len(early) == len(rows) - 2  # before the re-issues


def test_mozilla_revoked_intermediates_report(sim: SimulatorRunning) -> None:
    path = "/mozilla/PublicIntermediateCertsRevokedWithPEMCSV"
    header, none_yet = _csv_rows(sim, path, "2020-07-26T00:00:00Z")
    assert header[:4] == [
        "CA Owner",
        "Revocation Status",
        "RFC 5280 Revocation Reason Code",
        "Date of Revocation",
    ]
    assert header[-1] == "PEM Info"
    assert none_yet == []
    _, rows = _csv_rows(sim, path, "2020-07-27T00:00:00Z")
    (row,) = rows
    truth = _revocation(sim, "jprs-dv-g3")
    assert row["Date of Revocation"] == "2020 Jul 05"
    assert row["RFC 5280 Revocation Reason Code"] == "(4) superseded"
    assert row["OneCRL Status"] == "Ready to Add"
    assert row["Certificate Serial Number"].lower().lstrip("0") == truth["serial_hex"]
    pem = row["PEM Info"].strip("'").encode()
    assert (
        hashlib.sha256(
            x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
        ).hexdigest()
        == (truth["der_sha256"])
    )
    _, both = _csv_rows(sim, path, "2020-08-02T00:00:00Z")
    assert [r["OneCRL Status"] for r in both] == ["Added to OneCRL", "Ready to Add"]


# -- OneCRL and CRLSet --


def test_onecrl_records_appear_at_last_modified(sim: SimulatorRunning) -> None:
    path = sim.base_url + "/onecrl/v1/buckets/security-state/collections/onecrl/records"
    assert fetch_json(path, as_of="2020-07-28T10:04:59Z") == {"data": []}
    (record,) = fetch_json(path, as_of="2020-07-28T10:05:00Z")["data"]
    truth = _revocation(sim, "jprs-dv-g3")
    cert = _cert(sim, "jprs-dv-g3")
    assert record["details"]["created"] == truth["onecrl"]["created"] == "2020-07-28T10:00:00Z"
    assert record["last_modified"] == truth["onecrl"]["last_modified_ms"]
    assert record["id"] == truth["onecrl"]["id"]
    assert base64.b64decode(record["issuerName"]) == cert.issuer.public_bytes()
    assert int.from_bytes(base64.b64decode(record["serialNumber"]), "big") == cert.serial_number
    records = fetch_json(path)["data"]
    keyed = next(r for r in records if "subject" in r)
    r1 = _cert(sim, "jprs-dv-g3.r1")
    spki = r1.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert base64.b64decode(keyed["pubKeyHash"]) == hashlib.sha256(spki).digest()
    assert base64.b64decode(keyed["subject"]) == r1.subject.public_bytes()


def test_crlset_binary_as_of(sim: SimulatorRunning) -> None:
    real_header, _ = parse_crlset(
        (FIXTURES / "onecrl" / "chrome_crlset" / "crl-set-6375_zcrypto").read_bytes()
    )
    url = sim.base_url + "/crlset/crl-set"
    header, parents = parse_crlset(fetch(url, as_of="2020-07-20T23:59:59Z")[2])
    assert set(header) == set(real_header)
    assert (header["ContentType"], header["NumParents"], parents) == ("CRLSet", 0, {})
    header, parents = parse_crlset(fetch(url, as_of="2020-07-21T00:00:00Z")[2])
    root = _cert(sim, "secom-root")
    spki = root.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert parents == {hashlib.sha256(spki).digest(): [_cert(sim, "jprs-dv-g3").serial_number]}
    assert header["Sequence"] == 2


# -- crt.sh --


def test_crtsh_identity_search_cap_and_download(sim: SimulatorRunning) -> None:
    limit = _truth(sim)["crtsh_result_limit"]
    base = sim.base_url + "/crtsh/?output=json&exclude=expired&deduplicate=Y&identity="
    capped = fetch_json(base + "%25.example-trust.example")
    assert len(capped) == limit == 500
    narrow = fetch_json(base + "%25.corp.example")
    assert 0 < len(narrow) < limit
    row = narrow[0]
    assert set(row) == {
        "issuer_ca_id", "issuer_name", "common_name", "name_value", "id", "entry_timestamp",
        "not_before", "not_after", "serial_number", "result_count",
    }  # fmt: skip
    assert row["issuer_name"] == "C=XX, O=Example Trust, CN=Sim Example Constrained CA"
    early = fetch_json(base + "%25.corp.example", as_of="2020-06-20T00:00:00Z")
    assert 0 < len(early) < len(narrow)
    assert all(r["entry_timestamp"] <= "2020-06-20T00:00:00" for r in early)

    status, headers, pem = fetch(sim.base_url + f"/crtsh/?d={row['id']}")
    assert status == 200
    assert headers["Content-Type"] == "application/pkix-cert"
    leaf = x509.load_pem_x509_certificate(pem)
    assert f"{leaf.serial_number:x}".zfill(len(row["serial_number"])) == row["serial_number"]
    g3 = sim.world.ca_certs["jprs-dv-g3"]
    status, _, pem = fetch(sim.base_url + f"/crtsh/?d={g3.der_sha256}")
    assert x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER) == g3.der
    status, _, body = fetch(sim.base_url + f"/crtsh/?sha256={g3.der_sha256}&output=json")
    assert body == b"Unsupported output type"
    ca_rows = fetch_json(base + urllib.parse.quote("Sim JPRS Domain Validation Authority - G3"))
    assert len(ca_rows) == 3
    assert all(r["entry_timestamp"] is None for r in ca_rows)


# -- Bugzilla --


def test_bugzilla_search_and_comments_as_of(sim: SimulatorRunning) -> None:
    base = sim.base_url + "/bugzilla/rest/bug?product=CA%20Program&component=CA%20Certificate%20Compliance"
    early = fetch_json(base + "&whiteboard=delayed-revocation", as_of="2020-07-05T00:00:00Z")["bugs"]
    assert [(b["id"], b["status"], b["resolution"]) for b in early] == [(1650910, "ASSIGNED", "")]
    assert early[0]["creation_time"] == "2020-07-03T02:14:00Z"
    assert set(early[0]) >= {"id", "summary", "whiteboard", "creation_time", "status", "resolution",
                             "component", "product", "last_change_time"}  # fmt: skip
    now = fetch_json(base + "&whiteboard=revocation-delay")["bugs"]
    assert [b["id"] for b in now] == [1651234]
    resolved = fetch_json(base + "&creation_time=2020-07-01T00:00:00Z")["bugs"]
    assert [(b["id"], b["status"]) for b in resolved] == [(1650910, "RESOLVED"), (1651234, "ASSIGNED")]
    assert resolved[0]["last_change_time"] == "2020-08-10T00:00:00Z"
    # the assignee (default) is the CA's representative; the reporter is Bugzilla's `creator`
    assert [(b["assigned_to"], b["creator"]) for b in resolved] == [
        ("ca-representative@sim.example", "ca-representative@sim.example"),
        ("ca-representative@sim.example", "root-program@sim.example"),
    ]
    comments = fetch_json(sim.base_url + "/bugzilla/rest/bug/1650910/comment", as_of="2020-07-05T00:00:00Z")
    assert [c["text"] for c in comments["bugs"]["1650910"]["comments"]] == ["Incident report to follow."]
    # new_since: only comments created after it (2020-07-07T06:00 is not), numbered as in the bug
    newer = fetch_json(
        sim.base_url + "/bugzilla/rest/bug/1650910/comment?new_since=2020-07-07T06:00:00Z",
        as_of="2020-07-20T00:00:00Z",
    )["bugs"]["1650910"]["comments"]
    assert [(c["count"], c["creation_time"]) for c in newer] == [
        (2, "2020-07-10T08:00:00Z"),
        (3, "2020-07-17T08:00:00Z"),
    ]
    assert fetch(sim.base_url + "/bugzilla/rest/bug/1651234/comment", as_of="2020-07-01T00:00:00Z")[0] == 404


def test_bad_revocation_tables_are_scenario_errors(tmp_path: Path) -> None:
    from ctwatch.sim.scenario import ScenarioError, parse_scenario
    from ctwatch.sim.world import World
    from tests.sim.conftest import SMALL

    text = SMALL.read_text()
    bad = [
        '[[revocations]]\ncert = "secom-root"\nrevoked_at_claimed = 2020-07-01\npublished_at = 2020-07-02\n',
        '[[revocations]]\ncert = "jprs-dv-g3"\nrevoked_at_claimed = 2020-07-01\npublished_at = 2020-07-02\n'
        'reason = "bored"\n',
        '[[ocsp_delegates]]\nca = "example-root"\nresponder = "example-dv-1"\n',  # no OCSPSigning
    ]
    for addition in bad:
        world = World.load(parse_scenario(text + "\n" + addition), cache_dir=tmp_path)
        with pytest.raises(ScenarioError):
            _ = world.revocations
