"""A TLS subscriber certificate issued from 2023-09-15 with id-kp-OCSPSigning.

BR 2.0.0 §7.1.2.7.10 (Subscriber Certificate extended key usage, SC062, effective 2023-09-15):
id-kp-OCSPSigning MUST NOT. Such a certificate is also a delegated OCSP responder for its issuer
(RFC 6960 §4.2.2.2), able to answer for every certificate that CA signed.

Date basis NOT_BEFORE: a profile rule, for certificates issued on or after 2023-09-15. Before SC062
the subscriber profile (BR 1.x 7.1.2.3(f)) only said "Other values SHOULD NOT be present", a warning
level this rule does not claim; older TLS certificates with the purpose are therefore not flagged here.
The real fixture webdss.athexgroup.gr (notBefore 2024-04-11) is inside the profile's dates, so it gets
this finding and no CA finding (its kind is tls_leaf).
"""

from __future__ import annotations

from ctwatch.rules._common import has_ocsp_signing
from ctwatch.rules._model import Citation, DateBasis, Rule, RuleContext, Severity
from ctwatch.rules.documents import BR, CABF, SC062_EFFECTIVE
from ctwatch.x509.model import CertKind, ParsedCert


def _check(cert: ParsedCert, _context: RuleContext) -> str | None:
    if has_ocsp_signing(cert):
        return (
            "This TLS server certificate lists id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9) in its extended key "
            "usage, which the BR subscriber profile forbids; it can sign OCSP responses for its issuer."
        )
    return None


RULE = Rule(
    id="e_sub_cert_ocsp_signing_eku",
    description=(
        "TLS subscriber certificate issued on or after 2023-09-15 asserts id-kp-OCSPSigning: "
        "MUST NOT in BR 2.0.0 §7.1.2.7.10."
    ),
    severity=Severity.ERROR,
    citation=Citation(BR, "2.0.0", "7.1.2.7.10"),
    source=CABF,
    effective=SC062_EFFECTIVE,
    ineffective=None,
    date_basis=DateBasis.NOT_BEFORE,
    applies_to=frozenset({CertKind.TLS_LEAF}),
    check=_check,
)
