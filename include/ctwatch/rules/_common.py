"""Shared pieces of rule definitions: certificate-kind sets and the OCSPSigning test."""

from __future__ import annotations

from typing import Final

from ctwatch.x509.model import CA_KINDS, CertKind, ParsedCert
from ctwatch.x509.oids import EKU_OCSP_SIGNING

ANY_CA: Final = CA_KINDS
SUBORDINATE_CA: Final = frozenset({CertKind.SUB_CA, CertKind.TC_SUB_CA, CertKind.PRECERT_SIGNING_CA})


def has_ocsp_signing(cert: ParsedCert) -> bool:
    return EKU_OCSP_SIGNING in cert.eku_oids
