"""A CA certificate with id-kp-OCSPSigning and with id-pkix-ocsp-nocheck.

Not the BR 4.9.9 breach (nocheck is there), but worse in one way: RFC 6960 §4.2.2.2 makes it an
authorized responder for every sibling certificate of its issuer, and §4.2.2.2.1 says a nocheck
responder key is as sensitive as the CA's CRL-signing key; revoking it does not stop its key holder
from vouching for itself. A warning, because no BR sentence before SC062 forbids it by name.

Date basis EVALUATION_DATE: the risk exists whenever the certificate is in use. Effective date: RFC
6960 is dated June 2013 without a day, so the first of that month (RFC 2560 §4.2.2.2 of 1999 said the same).
"""

from __future__ import annotations

from datetime import date

from ctwatch.rules._common import ANY_CA, has_ocsp_signing
from ctwatch.rules._model import DateBasis, Rule, RuleContext, Severity
from ctwatch.rules.documents import IETF, RFC_6960_4_2_2_2
from ctwatch.x509.model import ParsedCert


def _check(cert: ParsedCert, _context: RuleContext) -> str | None:
    if has_ocsp_signing(cert) and cert.ocsp_nocheck:
        return (
            "This CA certificate lists id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9) and carries "
            "id-pkix-ocsp-nocheck: it can answer OCSP for every certificate its issuer signed, itself "
            "included, and relying parties are told never to check its own revocation."
        )
    return None


RULE = Rule(
    id="w_ca_ocsp_signing_eku_with_nocheck",
    description=(
        "CA certificate asserts id-kp-OCSPSigning with id-pkix-ocsp-nocheck: a delegated responder for "
        "all its siblings whose own revocation is never checked (RFC 6960 §4.2.2.2, §4.2.2.2.1)."
    ),
    severity=Severity.WARNING,
    citation=RFC_6960_4_2_2_2,
    source=IETF,
    effective=date(2013, 6, 1),
    ineffective=None,
    date_basis=DateBasis.EVALUATION_DATE,
    applies_to=ANY_CA,
    check=_check,
)
