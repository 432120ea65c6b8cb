"""A CA certificate with id-kp-OCSPSigning and no id-pkix-ocsp-nocheck (the July 2020 incident).

RFC 6960 §4.2.2.2 makes any certificate carrying id-kp-OCSPSigning an authorized OCSP responder for
every certificate its issuer signed; BR 4.9.9 (1.7.0) then requires that responder certificate to
contain id-pkix-ocsp-nocheck. A CA certificate breaks that sentence whether or not anyone ever signs
a response with it. The sentence is in the BR since 1.0 (effective 2012-07-01); BR 2.x keeps the duty
through 4.9.9 -> 7.1.2.8.6, so the rule has no end date.

Date basis EVALUATION_DATE: 4.9.9 is a duty that holds while the certificate is in use, whenever it
was issued (the 2020 incident hit CA certificates issued years before).
"""

from __future__ import annotations

from ctwatch.rules._common import ANY_CA, has_ocsp_signing
from ctwatch.rules._model import DateBasis, Rule, RuleContext, Severity
from ctwatch.rules.documents import BR_1_0_EFFECTIVE, BR_1_7_0_4_9_9, CABF
from ctwatch.x509.model import ParsedCert


def _check(cert: ParsedCert, _context: RuleContext) -> str | None:
    if has_ocsp_signing(cert) and not cert.ocsp_nocheck:
        return (
            "This CA certificate lists id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9) in its extended key usage "
            "but has no id-pkix-ocsp-nocheck extension. It can sign OCSP responses for every certificate "
            "its issuer signed, and BR 4.9.9 requires such a responder certificate to carry nocheck."
        )
    return None


RULE = Rule(
    id="e_ca_ocsp_signing_eku_without_nocheck",
    description=(
        "CA certificate asserts id-kp-OCSPSigning without id-pkix-ocsp-nocheck: it is a delegated OCSP "
        "responder for its issuer (RFC 6960 §4.2.2.2) lacking the nocheck extension BR 4.9.9 requires "
        "(sentence present since BR 1.0, effective 2012-07-01)."
    ),
    severity=Severity.ERROR,
    citation=BR_1_7_0_4_9_9,
    source=CABF,
    effective=BR_1_0_EFFECTIVE,
    ineffective=None,
    date_basis=DateBasis.EVALUATION_DATE,
    applies_to=ANY_CA,
    check=_check,
)
