"""A subordinate CA certificate issued from 2023-09-15 with id-kp-OCSPSigning.

SC062 (BR 2.0.0, effective 2023-09-15) profiles every subordinate CA: 7.1.2.10.6 (TLS and technically
constrained TLS sub-CAs) and 7.1.2.3.3 (technically constrained non-TLS sub-CAs) say MUST NOT for
id-kp-OCSPSigning; 7.1.2.4.2 (precertificate signing CAs) allows only the precertificate signing
purpose. Cross-certificates follow 7.1.2.2 instead: see w_cross_ca_ocsp_signing_eku.

Date basis NOT_BEFORE: a profile rule, for certificates issued on or after the effective date.
"""

from __future__ import annotations

from ctwatch.rules._common import SUBORDINATE_CA, has_ocsp_signing
from ctwatch.rules._model import Citation, CrossCertificateScope, DateBasis, Rule, RuleContext, Severity
from ctwatch.rules.documents import BR, CABF, SC062_EFFECTIVE
from ctwatch.x509.model import ParsedCert


def _check(cert: ParsedCert, _context: RuleContext) -> str | None:
    if has_ocsp_signing(cert):
        return (
            "This subordinate CA certificate, issued under the BR 2.0 certificate profiles, lists "
            "id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9) in its extended key usage, which those profiles forbid."
        )
    return None


RULE = Rule(
    id="e_sub_ca_ocsp_signing_eku",
    description=(
        "Subordinate CA certificate (not a cross-certificate) issued on or after 2023-09-15 asserts "
        "id-kp-OCSPSigning: MUST NOT in BR 2.0.0 §7.1.2.10.6 (TLS sub-CAs), §7.1.2.3.3 (technically "
        "constrained non-TLS sub-CAs) and §7.1.2.4.2 (precertificate signing CAs)."
    ),
    severity=Severity.ERROR,
    citation=Citation(BR, "2.0.0", "7.1.2.10.6; 7.1.2.3.3; 7.1.2.4.2"),
    source=CABF,
    effective=SC062_EFFECTIVE,
    ineffective=None,
    date_basis=DateBasis.NOT_BEFORE,
    applies_to=SUBORDINATE_CA,
    check=_check,
    cross_certificates=CrossCertificateScope.EXCLUDED,
)
