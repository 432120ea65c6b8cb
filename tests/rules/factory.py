"""Build ParsedCert values for unit tests: a plain sub-CA, changed with dataclasses.replace."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from ctwatch.x509.model import CertKind, ParsedCert
from ctwatch.x509.oids import EKU_CLIENT_AUTH, EKU_OCSP_SIGNING, EKU_SERVER_AUTH

OCSP_SIGNING = EKU_OCSP_SIGNING

_BASE = ParsedCert(
    der=b"\x30\x00",
    der_sha256="ab" * 32,
    subject_rfc4514="CN=Test Sub CA",
    subject_der=None,
    issuer_rfc4514="CN=Test Root",
    issuer_der=None,
    serial_hex="01",
    not_before=datetime(2020, 1, 1, tzinfo=UTC),
    not_after=datetime(2030, 1, 1, tzinfo=UTC),
    is_ca=True,
    path_length=0,
    key_usage=frozenset({"key_cert_sign", "crl_sign"}),
    key_usage_present=True,
    eku_oids=(EKU_SERVER_AUTH, EKU_CLIENT_AUTH),
    eku_absent=False,
    ocsp_nocheck=False,
    name_constraints=False,
    ski_hex=None,
    aki_hex=None,
    spki_sha256=None,
    crl_urls=(),
    ocsp_urls=(),
    ca_issuers_urls=(),
    policy_oids=(),
    precert_poison=False,
    self_issued=False,
    self_signed=False,
    kind=CertKind.SUB_CA,
    parser="cryptography",
)


def make_cert(*, ocsp_signing: bool = False, **changes: Any) -> ParsedCert:
    """A sub-CA certificate; `ocsp_signing=True` adds id-kp-OCSPSigning to the EKU list."""
    if ocsp_signing:
        changes.setdefault("eku_oids", (EKU_SERVER_AUTH, EKU_CLIENT_AUTH, EKU_OCSP_SIGNING))
    return dataclasses.replace(_BASE, **changes)
