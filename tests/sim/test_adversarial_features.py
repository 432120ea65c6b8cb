"""Scenario features for adversarial worlds, checked on the served answers as of chosen times against
the values tests/sim/adversarial.toml declares: a revocation never on the CA's CRL, certificateHold,
`leaves_from`, an intermediate cross-signed by another owner, bug texts naming certificates, and
declared expected verdicts."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from ctwatch.ct.entries import LogEntry, decode_rfc6962_entry_b64
from ctwatch.sim.scenario import ScenarioError, parse_scenario
from ctwatch.sim.server import SimulatorRunning
from ctwatch.sim.world import World
from ctwatch.x509 import ParsedCert, analyse_der
from tests.sim.conftest import fetch, fetch_json, parse_crlset

pytestmark = pytest.mark.integration

SCENARIO = Path(__file__).parent / "adversarial.toml"
DECLARED: dict[str, Any] = tomllib.loads(SCENARIO.read_text())
START: datetime = DECLARED["scenario"]["start"]
END: datetime = DECLARED["scenario"]["end"]
ALPHA_CRL = "http://crl.alpha.example/alpha-root.crl"
LOG = "sim-one"
SECOND = timedelta(seconds=1)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorRunning]:
    with SimulatorRunning(SCENARIO, cache_dir=tmp_path_factory.mktemp("sim-cache")) as running:
        yield running


def _declared(table: str, key: str, value: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in DECLARED[table] if t[key] == value)
    return found


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _url(sim: SimulatorRunning, stable_url: str) -> str:
    for prefix, local in sim.url_rewrite().items():
        if stable_url.startswith(prefix):
            return local + stable_url[len(prefix) :]
    raise AssertionError(stable_url)


def _cert(sim: SimulatorRunning, cert_id: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(sim.world.ca_certs[cert_id].der)


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _crl(sim: SimulatorRunning, as_of: datetime) -> x509.CertificateRevocationList:
    status, _, body = fetch(_url(sim, ALPHA_CRL), as_of=_iso(as_of))
    assert status == 200, body
    crl = x509.load_der_x509_crl(body)
    assert crl.is_signature_valid(_cert(sim, "alpha-root").public_key())  # type: ignore[arg-type]
    return crl


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def _ocsp(sim: SimulatorRunning, cert_id: str, issuer_id: str, as_of: datetime) -> ocsp.OCSPResponse:
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(_cert(sim, cert_id), _cert(sim, issuer_id), hashes.SHA256())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    headers = {"X-Ctwatch-As-Of": _iso(as_of), "Content-Type": "application/ocsp-request"}
    url = _url(sim, "http://ocsp.alpha.example/")
    post = urllib.request.Request(url, request, headers, method="POST")
    with urllib.request.urlopen(post, timeout=10) as response:
        return ocsp.load_der_ocsp_response(response.read())


def _csv_rows(sim: SimulatorRunning, path: str, as_of: datetime) -> list[dict[str, str]]:
    status, _, body = fetch(sim.base_url + path, as_of=_iso(as_of))
    assert status == 200, body
    return list(csv.DictReader(io.StringIO(body.decode())))


def _ccadb(sim: SimulatorRunning, as_of: datetime) -> dict[str, dict[str, str]]:
    rows = _csv_rows(sim, "/ccadb/AllCertificateRecordsCSVFormatV5", as_of)
    return {row["SHA-256 Fingerprint"]: row for row in rows}


def _sha256_upper(sim: SimulatorRunning, cert_id: str) -> str:
    return hashlib.sha256(sim.world.ca_certs[cert_id].der).hexdigest().upper()


def _crlset_serials(sim: SimulatorRunning, as_of: datetime) -> dict[bytes, list[int]]:
    return parse_crlset(fetch(sim.base_url + "/crlset/crl-set", as_of=_iso(as_of))[2])[1]


# -- 1. a revocation the CA never publishes on its CRL --


def test_unpublished_revocation_is_on_no_crl_version_and_ocsp_says_good(sim: SimulatorRunning) -> None:
    declared = _declared("revocations", "cert", "alpha-hidden")
    assert "published_at" not in declared
    serial = _cert(sim, "alpha-hidden").serial_number
    held_published: datetime = _declared("revocations", "cert", "alpha-held")["published_at"]
    step = timedelta(hours=DECLARED["revocation"]["crl_reissue_hours"])
    weekly = [START]
    while weekly[-1] + step < END:
        weekly.append(weekly[-1] + step)
    # Weekly versions and one at alpha-held's publication; none for the unpublished revocation.
    versions = sorted([*weekly, held_published])
    assert len(versions) == 9 + 1  # 2021-03-01 .. 2021-04-26 weekly, and 2021-03-05T06:00
    for number, this_update in enumerate(versions, start=1):
        crl = _crl(sim, this_update)
        assert (crl.last_update_utc, _crl_number(crl)) == (this_update, number)
        assert crl.get_revoked_certificate_by_serial_number(serial) is None
    present = _crl(sim, END)
    assert _crl_number(present) == len(versions)
    assert present.get_revoked_certificate_by_serial_number(serial) is None

    for as_of in (declared["revoked_at_claimed"], declared["ccadb_revoked_from"], END - SECOND):
        answer = _ocsp(sim, "alpha-hidden", "alpha-root", as_of)
        assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD

    revocations = sim.world.ground_truth()["revocation"]["revocations"]
    truth = next(r for r in revocations if r["cert_id"] == "alpha-hidden")
    assert truth["crl_first_listed_at"] is None
    assert truth["crl_last_listed_at"] is None
    assert truth["crl_last_version_without_at"] is None
    assert truth["ocsp_revoked_from"] is None
    assert truth["ocsp_behaviour"] == "good"
    assert sim.world.ground_truth()["revocation"]["crl_versions"]["alpha-root"]["this_updates"] == [
        _iso(t) for t in versions
    ]


def test_unpublished_revocation_still_reaches_ccadb_mozilla_onecrl_and_crlset(sim: SimulatorRunning) -> None:
    declared = _declared("revocations", "cert", "alpha-hidden")
    sha = _sha256_upper(sim, "alpha-hidden")
    cert = _cert(sim, "alpha-hidden")
    ccadb_from: datetime = declared["ccadb_revoked_from"]
    assert _ccadb(sim, ccadb_from - SECOND)[sha]["Revocation Status"] == "Not Revoked"
    assert _ccadb(sim, ccadb_from)[sha]["Revocation Status"] == "Revoked"

    report = "/mozilla/PublicIntermediateCertsRevokedWithPEMCSV"
    assert _csv_rows(sim, report, ccadb_from - SECOND) == []
    (row,) = _csv_rows(sim, report, ccadb_from)
    day: date = declared["ccadb_date_of_revocation"]
    assert row["SHA-256 Fingerprint"] == sha
    assert row["Date of Revocation"] == day.strftime("%Y %b %d") == "2021 Mar 09"
    assert row["RFC 5280 Revocation Reason Code"] == "(5) cessationOfOperation"
    assert int(row["Certificate Serial Number"], 16) == cert.serial_number

    onecrl = sim.base_url + "/onecrl/v1/buckets/security-state/collections/onecrl/records"
    created: datetime = declared["onecrl_created"]
    assert fetch_json(onecrl, as_of=_iso(created - SECOND)) == {"data": []}
    (record,) = fetch_json(onecrl, as_of=_iso(created))["data"]
    assert record["details"]["created"] == _iso(created)
    assert int.from_bytes(base64.b64decode(record["serialNumber"]), "big") == cert.serial_number

    crlset_from: datetime = declared["crlset_from"]
    root_spki_hash = hashlib.sha256(_spki(_cert(sim, "alpha-root"))).digest()
    assert _crlset_serials(sim, crlset_from - SECOND) == {}
    assert _crlset_serials(sim, crlset_from) == {root_spki_hash: [cert.serial_number]}


# -- 2. certificateHold --


def test_certificate_hold_on_the_crl_and_in_ocsp(sim: SimulatorRunning) -> None:
    declared = _declared("revocations", "cert", "alpha-held")
    assert declared["reason"] == "certificateHold"
    serial = _cert(sim, "alpha-held").serial_number
    published: datetime = declared["published_at"]
    assert _crl(sim, published - SECOND).get_revoked_certificate_by_serial_number(serial) is None
    entry = _crl(sim, published).get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    assert entry.revocation_date_utc == declared["revoked_at_claimed"]
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.certificate_hold  # reasonCode 6

    assert _ocsp(sim, "alpha-held", "alpha-root", published - SECOND).certificate_status == (
        ocsp.OCSPCertStatus.GOOD
    )
    held = _ocsp(sim, "alpha-held", "alpha-root", published)
    assert held.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert held.revocation_reason == x509.ReasonFlags.certificate_hold
    assert held.revocation_time_utc == declared["revoked_at_claimed"]


# -- 3. leaves_from --


def _entries(sim: SimulatorRunning, as_of: datetime | None) -> list[LogEntry]:
    as_of_text = _iso(as_of) if as_of else None
    size = fetch_json(sim.log_url(LOG) + "ct/v1/get-sth", as_of=as_of_text)["tree_size"]
    entries: list[LogEntry] = []
    while len(entries) < size:
        url = sim.log_url(LOG) + f"ct/v1/get-entries?start={len(entries)}&end={size - 1}"
        for raw in fetch_json(url, as_of=as_of_text)["entries"]:
            entries.append(decode_rfc6962_entry_b64(len(entries), raw["leaf_input"], raw["extra_data"]))
    return entries


def test_first_ct_entry_of_a_ca_is_at_leaves_from(sim: SimulatorRunning) -> None:
    declared = _declared("intermediates", "id", "alpha-late")
    leaves_from: datetime = declared["leaves_from"]
    count = declared["leaves"] + declared["precerts"]
    window_days = (END - leaves_from) / timedelta(days=1)
    # Issuance is uniform over [leaves_from, end): the chance that no leaf falls on the first day.
    assert (1 - 1 / window_days) ** count < 1e-6
    late = sim.world.ca_certs["alpha-late"].der

    before = _entries(sim, leaves_from - SECOND)
    assert before  # alpha-issuing's leaves are there
    assert not [e for e in before if late in e.chain]
    first = next(e for e in _entries(sim, None) if late in e.chain)
    first_at = datetime.fromtimestamp(first.timestamp_ms / 1000, UTC)
    # An SCT is seconds after issuance and the log integrates within its 60 s MMD: an hour is ample.
    assert leaves_from <= first_at < leaves_from + timedelta(days=1, hours=1)

    crtsh = sim.base_url + "/crtsh/?output=json&identity=" + urllib.parse.quote(declared["common_name"])
    assert fetch_json(crtsh, as_of=_iso(leaves_from - SECOND)) == []
    assert len(fetch_json(crtsh, as_of=_iso(first_at + SECOND))) == 1
    truth = {c["cert_id"]: c for c in sim.world.ground_truth()["ca_certificates"]}
    assert truth["alpha-late"]["leaves_from"] == leaves_from.isoformat()


# -- 4. an intermediate cross-signed by another owner --


def test_intermediate_cross_signed_by_another_owners_root(sim: SimulatorRunning) -> None:
    declared = _declared("cross_signs", "id", "alpha-issuing-by-beta")
    cross = _cert(sim, "alpha-issuing-by-beta")
    subject = _cert(sim, declared["subject"])
    issuer = _cert(sim, declared["issuer"])
    assert cross.subject == subject.subject
    assert _spki(cross) == _spki(subject)
    assert cross.issuer == issuer.subject
    cross.verify_directly_issued_by(issuer)
    assert cross.not_valid_before_utc == declared["not_before"]
    # The intermediate's profile: pathlen 0 and its EKUs (OCSPSigning included).
    assert cross.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    assert (
        cross.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        == subject.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )

    sha = _sha256_upper(sim, "alpha-issuing-by-beta")
    assert sha not in _ccadb(sim, declared["not_before"] - SECOND)
    row = _ccadb(sim, END)[sha]
    assert row["CA Owner"] == declared["owner"] == "Beta PKI"
    assert row["Certificate Record Type"] == "Intermediate Certificate"
    assert row["Parent SHA-256 Fingerprint"] == _sha256_upper(sim, "beta-root")
    assert row["Certificate Name"] == _declared("intermediates", "id", "alpha-issuing")["common_name"]
    assert row["Parent Certificate Name"] == _declared("roots", "id", "beta-root")["common_name"]

    truth = {c["cert_id"]: c for c in sim.world.ground_truth()["ca_certificates"]}
    record = truth["alpha-issuing-by-beta"]
    assert (record["kind"], record["owner"], record["issuer_cert_id"], record["cross_of"]) == (
        "cross_sign",
        "Beta PKI",
        "beta-root",
        "alpha-issuing",
    )
    assert record["ocsp_signing"] is True
    log_truth = sim.world.ground_truth()["logs"][LOG]
    assert "alpha-issuing-by-beta" not in log_truth["entries_per_issuer"]
    assert "alpha-issuing-by-beta" not in log_truth["first_index_by_ca"]


def test_issuers_may_be_defined_after_the_certificates_they_issue(sim: SimulatorRunning) -> None:
    ids = [ca.id for ca in sim.world.scenario.cas]
    assert ids.index("beta-mid") < ids.index("beta-sub")
    assert ids.index("alpha-issuing-by-beta") < ids.index("alpha-issuing")  # the file's table order
    _cert(sim, "beta-sub").verify_directly_issued_by(_cert(sim, "beta-mid"))
    assert sim.world.ca_certs["beta-sub"].chain_ids == ("beta-sub", "beta-mid", "beta-root")


# -- 5. bug texts naming certificates --


def test_bug_placeholders_are_replaced_in_served_json(sim: SimulatorRunning) -> None:
    hidden_der = sim.world.ca_certs["alpha-hidden"].der
    parsed = analyse_der(hidden_der)
    assert isinstance(parsed, ParsedCert)
    root_cn = _declared("roots", "id", "alpha-root")["common_name"]
    expected_summary = (
        f"Alpha: {root_cn} revoked {hashlib.sha256(hidden_der).hexdigest()} without a CRL entry"
    )
    bugs = fetch_json(sim.base_url + "/bugzilla/rest/bug?id=1700001")["bugs"]
    assert [b["summary"] for b in bugs] == [expected_summary]
    found = fetch_json(sim.base_url + "/bugzilla/rest/bug?summary=" + hashlib.sha256(hidden_der).hexdigest())
    assert [b["id"] for b in found["bugs"]] == [1700001]

    comments = fetch_json(sim.base_url + "/bugzilla/rest/bug/1700001/comment")["bugs"]["1700001"]["comments"]
    (text,) = [c["text"] for c in comments]
    serial_part, crtsh_part = text.split("; cross-sign crt.sh ")
    assert serial_part == f"Serial {parsed.serial_hex}"
    crtsh_id = crtsh_part.rstrip(".")
    status, _, pem = fetch(sim.base_url + f"/crtsh/?d={crtsh_id}")
    assert status == 200
    served = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    assert served == sim.world.ca_certs["alpha-issuing-by-beta"].der


@pytest.mark.parametrize(
    ("placeholder", "message"),
    [("{serial:no-such-ca}", "'no-such-ca' is not a CA certificate id"), ("{pem:alpha-hidden}", "kind")],
)
def test_bad_bug_placeholders_fail_when_the_world_is_built(
    placeholder: str, message: str, tmp_path: Path
) -> None:
    text = SCENARIO.read_text().replace("{serial:alpha-hidden}", placeholder)
    world = World.load(parse_scenario(text), cache_dir=tmp_path)
    with pytest.raises(ScenarioError, match=message) as raised:
        _ = world.revocations
    assert "bugs[0] (bug 1700001) comments[0]" in str(raised.value)
    with pytest.raises(ScenarioError, match=message):
        SimulatorRunning(parse_scenario(text), cache_dir=tmp_path)


# -- 6. expected verdicts --


def test_expected_verdicts_are_kept_for_tests(sim: SimulatorRunning) -> None:
    assert sim.world.scenario.extra["expected_verdicts"] == DECLARED["expected_verdicts"]
    assert sim.world.scenario.extra["expected_verdicts"][0]["cert"] == "alpha-hidden"


# -- malformed scenarios --


_CROSS_SIGN_NAME = 'owner = "Beta PKI"\ncommon_name = "Sim Alpha Issuing CA by Beta"'
_BETA_MID_ISSUER = 'issuer = "beta-root"\nowner = "Beta PKI"\ncommon_name = "Sim Beta Mid'
_LEAVES_FROM = "leaves_from = 2021-04-21T00:00:00Z"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (_CROSS_SIGN_NAME, "leaves = 5\n" + _CROSS_SIGN_NAME, "cross-sign 'alpha-issuing-by-beta': leaves"),
        (
            'subject = "alpha-issuing"',
            'subject = "alpha-issuing-by-beta"',
            "'alpha-issuing-by-beta': subject 'alpha-issuing-by-beta' is not a root or intermediate id",
        ),
        (_BETA_MID_ISSUER, _BETA_MID_ISSUER.replace("root", "sub"), "'beta-sub': issuer 'beta-mid'"),
        (_LEAVES_FROM, "leaves_from = 2021-05-01T00:00:00Z", "'alpha-late': leaves_from .* is outside"),
        (_LEAVES_FROM, "leaves_from = 2021-02-01T00:00:00Z", "'alpha-late': leaves_from .* is outside"),
    ],
)
def test_malformed_ca_tables_name_the_item(old: str, new: str, message: str) -> None:
    text = SCENARIO.read_text()
    assert old in text
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(text.replace(old, new))


@pytest.mark.parametrize(
    ("addition", "message"),
    [
        ('ocsp = "lags"\nocsp_lag_hours = 2\n', r"revocations\[0\]: ocsp = 'lags' needs a published_at"),
        ("removed_at = 2021-04-01T00:00:00Z\n", r"revocations\[0\]: removed_at needs a published_at"),
    ],
)
def test_unpublished_revocation_with_crl_behaviour_is_an_error(
    addition: str, message: str, tmp_path: Path
) -> None:
    anchor = 'reason = "cessationOfOperation"\n'
    text = SCENARIO.read_text().replace(anchor, anchor + addition)
    world = World.load(parse_scenario(text), cache_dir=tmp_path)
    with pytest.raises(ScenarioError, match=message):
        _ = world.revocations
