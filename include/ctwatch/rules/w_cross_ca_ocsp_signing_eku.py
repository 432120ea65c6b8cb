"""A cross-certificate issued from 2023-09-15 with id-kp-OCSPSigning.

BR 2.0.0 §7.1.2.2.5 (restricted cross-certified subordinate CA) does not name id-kp-OCSPSigning; it
falls under "Any other value: NOT RECOMMENDED" — a warning, not an error. (An unrestricted
cross-certificate, 7.1.2.2.4, holds anyExtendedKeyUsage alone, so one listing OCSPSigning is restricted.)
Whether a certificate is a cross-certificate is known to the warehouse, passed in RuleContext.

Date basis NOT_BEFORE: a profile rule, for certificates issued on or after SC062's effective date.
"""

from __future__ import annotations

from ctwatch.rules._common import has_ocsp_signing
from ctwatch.rules._model import Citation, CrossCertificateScope, DateBasis, Rule, RuleContext, Severity
from ctwatch.rules.documents import BR, CABF, SC062_EFFECTIVE
from ctwatch.x509.model import CertKind, ParsedCert


def _check(cert: ParsedCert, _context: RuleContext) -> str | None:
    if has_ocsp_signing(cert):
        return (
            "This cross-certificate lists id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9); the BR cross-certificate "
            "profile does not recommend it, and it makes the certificate an OCSP responder for its issuer."
        )
    return None


RULE = Rule(
    id="w_cross_ca_ocsp_signing_eku",
    description=(
        "Cross-certificate issued on or after 2023-09-15 asserts id-kp-OCSPSigning: "
        '"Any other value: NOT RECOMMENDED" in BR 2.0.0 §7.1.2.2.5.'
    ),
    severity=Severity.WARNING,
    citation=Citation(BR, "2.0.0", "7.1.2.2.5"),
    source=CABF,
    effective=SC062_EFFECTIVE,
    ineffective=None,
    date_basis=DateBasis.NOT_BEFORE,
    applies_to=frozenset({CertKind.SUB_CA, CertKind.TC_SUB_CA}),
    check=_check,
    cross_certificates=CrossCertificateScope.ONLY,
)
