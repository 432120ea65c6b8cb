"""classify(): the kind rules, case by case (the docstring of classify is the specification)."""

from __future__ import annotations

from typing import Any

import pytest

from ctwatch.x509 import CertKind, classify

SERVER, CLIENT, EMAIL, OCSP, ANY, PRECERT, CODE = (
    "1.3.6.1.5.5.7.3.1",
    "1.3.6.1.5.5.7.3.2",
    "1.3.6.1.5.5.7.3.4",
    "1.3.6.1.5.5.7.3.9",
    "2.5.29.37.0",
    "1.3.6.1.4.1.11129.2.4.4",
    "1.3.6.1.5.5.7.3.3",
)


NO_BC: dict[str, Any] = {"basic_constraints_present": False}


def _kind(**overrides: Any) -> CertKind:
    facts: dict[str, Any] = {
        "is_ca": False,
        "self_issued": False,
        "self_signed": False,
        "ski_hex": "aa",
        "aki_hex": "bb",
        "eku_oids": (),
        "eku_absent": True,
        "name_constraints": False,
        "has_tls_san": False,
    }
    facts.update(overrides)
    if facts["eku_oids"]:
        facts["eku_absent"] = False
    return classify(**facts)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        # roots
        ({"is_ca": True, "self_issued": True, "self_signed": True}, CertKind.ROOT),
        ({"is_ca": True, "self_issued": True, "self_signed": None, "aki_hex": None}, CertKind.ROOT),
        ({"is_ca": True, "self_issued": True, "self_signed": None, "aki_hex": "aa"}, CertKind.ROOT),
        ({"is_ca": True, "self_issued": True, "self_signed": None}, CertKind.SUB_CA),  # AKI != SKI
        ({"is_ca": True, "self_issued": True, "self_signed": False}, CertKind.SUB_CA),  # key rollover
        ({"is_ca": True, "self_issued": True, "self_signed": True, "eku_oids": (OCSP,)}, CertKind.ROOT),
        # precertificate signing CA
        ({"is_ca": True, "eku_oids": (PRECERT,)}, CertKind.PRECERT_SIGNING_CA),
        # technically constrained
        ({"is_ca": True, "eku_oids": (CLIENT, EMAIL)}, CertKind.TC_SUB_CA),
        ({"is_ca": True, "eku_oids": (OCSP,)}, CertKind.TC_SUB_CA),
        ({"is_ca": True, "eku_oids": (SERVER,), "name_constraints": True}, CertKind.TC_SUB_CA),
        ({"is_ca": True, "eku_oids": (), "eku_absent": False}, CertKind.TC_SUB_CA),  # empty EKU
        # unconstrained
        ({"is_ca": True, "eku_oids": (SERVER, CLIENT)}, CertKind.SUB_CA),
        ({"is_ca": True, "eku_oids": (CLIENT, ANY)}, CertKind.SUB_CA),
        ({"is_ca": True, "eku_oids": (ANY,), "name_constraints": True}, CertKind.SUB_CA),
        ({"is_ca": True, "name_constraints": True}, CertKind.SUB_CA),  # no EKU: every purpose
        ({"is_ca": True}, CertKind.SUB_CA),
        # end entities
        ({"eku_oids": (OCSP,)}, CertKind.OCSP_RESPONDER),
        ({"eku_oids": (OCSP, CODE)}, CertKind.OCSP_RESPONDER),
        ({"eku_oids": (OCSP, CLIENT)}, CertKind.OTHER_LEAF),
        ({"eku_oids": (OCSP, SERVER, CLIENT), "has_tls_san": True}, CertKind.TLS_LEAF),
        ({"eku_oids": (OCSP, ANY), "has_tls_san": True}, CertKind.TLS_LEAF),
        ({"eku_oids": (SERVER,)}, CertKind.TLS_LEAF),
        ({"has_tls_san": True}, CertKind.TLS_LEAF),
        ({"eku_oids": (ANY,), "has_tls_san": True}, CertKind.TLS_LEAF),
        ({"eku_oids": (CLIENT,), "has_tls_san": True}, CertKind.OTHER_LEAF),
        ({}, CertKind.OTHER_LEAF),
        # without basicConstraints (v1, old v3 roots) a self-signed certificate is a trust anchor
        ({**NO_BC, "self_issued": True, "self_signed": True}, CertKind.ROOT),
        ({**NO_BC, "self_issued": True, "self_signed": None, "aki_hex": None}, CertKind.ROOT),
        ({**NO_BC, "self_issued": True, "self_signed": False}, CertKind.OTHER_LEAF),  # key rollover
        (NO_BC, CertKind.OTHER_LEAF),
        ({"self_issued": True, "self_signed": True}, CertKind.OTHER_LEAF),  # cA=FALSE: never a CA
    ],
)
def test_classify(facts: dict[str, Any], expected: CertKind) -> None:
    assert _kind(**facts) is expected


def test_ca_without_eku_is_never_an_ocsp_responder() -> None:
    kind = _kind(is_ca=True, eku_absent=True)
    assert kind.is_ca
    assert kind is not CertKind.OCSP_RESPONDER
