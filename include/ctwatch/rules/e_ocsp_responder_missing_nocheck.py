"""A delegated OCSP responder certificate without id-pkix-ocsp-nocheck.

BR 4.9.9 (1.7.0; the sentence is in the BR since 1.0, effective 2012-07-01) requires the certificate of
a delegated OCSP responder to carry id-pkix-ocsp-nocheck; BR 2.0.0 keeps it through 4.9.9 ("complies
with the OCSP Responder Certificate Profile in Section 7.1.2.8") and §7.1.2.8.6 (nocheck MUST).

Date basis EVALUATION_DATE, not NOT_BEFORE: 4.9.9 constrains every OCSP response signed on a given
day, so a responder certificate without nocheck cannot sign a compliant response on the evaluation
date, whenever it was issued. Basing the rule on the 7.1.2.8.6 profile (certificates issued from
2023-09-15) would miss long-lived responders still in use, such as one issued in 2009 valid to 2036.
"""

from __future__ import annotations

from ctwatch.rules._model import DateBasis, Rule, RuleContext, Severity
from ctwatch.rules.documents import BR_1_0_EFFECTIVE, BR_1_7_0_4_9_9, CABF
from ctwatch.x509.model import CertKind, ParsedCert


def _check(cert: ParsedCert, _context: RuleContext) -> str | None:
    if not cert.ocsp_nocheck:
        return (
            "This OCSP responder certificate has no id-pkix-ocsp-nocheck extension, which BR 4.9.9 "
            "requires of every certificate that signs OCSP responses on behalf of a CA."
        )
    return None


RULE = Rule(
    id="e_ocsp_responder_missing_nocheck",
    description=(
        "Delegated OCSP responder certificate without id-pkix-ocsp-nocheck: required by BR 4.9.9 "
        "(since BR 1.0) and, for the current profile, BR 2.0.0 §7.1.2.8.6."
    ),
    severity=Severity.ERROR,
    citation=BR_1_7_0_4_9_9,
    source=CABF,
    effective=BR_1_0_EFFECTIVE,
    ineffective=None,
    date_basis=DateBasis.EVALUATION_DATE,
    applies_to=frozenset({CertKind.OCSP_RESPONDER}),
    check=_check,
)
