"""Golden cases: the rules on the real CA and responder certificates in tests/fixtures/real/ca_certs."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctwatch.rules import evaluate
from ctwatch.x509 import ParsedCert, analyse_bytes
from tests.conftest import FIXTURES

CA_CERTS = FIXTURES / "real" / "ca_certs"
AS_OF = datetime(2026, 11, 27, tzinfo=UTC)
WEBDSS = "117754463817876b_webdss_athexgroup_gr.pem"
CA_RULES = {
    "e_ca_ocsp_signing_eku_without_nocheck",
    "w_ca_ocsp_signing_eku_with_nocheck",
    "e_sub_ca_ocsp_signing_eku",
    "w_cross_ca_ocsp_signing_eku",
}


def index(folder: str) -> dict[str, dict[str, str]]:
    with (CA_CERTS / folder / "index.csv").open(encoding="utf-8", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def parse(path: Path) -> ParsedCert:
    (cert,) = analyse_bytes(path.read_bytes())
    assert isinstance(cert, ParsedCert), cert
    return cert


def rule_ids(folder: str, name: str) -> list[str]:
    return [finding.rule_id for finding in evaluate(parse(CA_CERTS / folder / name), as_of=AS_OF)]


POSITIVES = sorted(index("ocsp_eku_positive"))
CONTROLS = sorted(index("controls"))
RESPONDERS = index("ocsp_responders")


def test_fixture_sets_have_the_documented_sizes():
    assert (len(POSITIVES), len(CONTROLS), len(RESPONDERS)) == (16, 25, 9)


@pytest.mark.parametrize("name", POSITIVES)
def test_every_ocsp_eku_ca_breaks_4_9_9(name):
    assert rule_ids("ocsp_eku_positive", name) == ["e_ca_ocsp_signing_eku_without_nocheck"]


@pytest.mark.parametrize("name", CONTROLS)
def test_no_control_gets_an_ocsp_finding(name):
    assert [rule_id for rule_id in rule_ids("controls", name) if "ocsp" in rule_id] == []


@pytest.mark.parametrize("name", sorted(set(RESPONDERS) - {WEBDSS}))
def test_delegated_responders_get_no_ca_finding_and_nocheck_decides_the_rest(name):
    found = rule_ids("ocsp_responders", name)
    assert not CA_RULES & set(found)
    expected = [] if RESPONDERS[name]["has_ocsp_nocheck"] == "True" else ["e_ocsp_responder_missing_nocheck"]
    assert found == expected


def test_index_lists_two_delegated_responders_without_nocheck():
    without_nocheck = [
        n for n, row in RESPONDERS.items() if row["has_ocsp_nocheck"] == "False" and n != WEBDSS
    ]
    assert sorted(without_nocheck) == [
        "27d5a847d59d795f_ocsp_izenpe_com.pem",
        "cea55126ea4fa333_OCSP_Responder_Gold_G2.pem",
    ]


def test_tls_server_cert_with_ocsp_signing_gets_the_subscriber_profile_finding_only():
    assert RESPONDERS[WEBDSS]["not_before"] >= "2023-09-15"
    assert rule_ids("ocsp_responders", WEBDSS) == ["e_sub_cert_ocsp_signing_eku"]
