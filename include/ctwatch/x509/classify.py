"""Certificate kinds, after pkilint's type determiner, reduced to what ctwatch's rules need."""

from __future__ import annotations

from collections.abc import Collection

from ctwatch.x509.model import CertKind
from ctwatch.x509.oids import (
    EKU_ANY,
    EKU_CLIENT_AUTH,
    EKU_EMAIL_PROTECTION,
    EKU_OCSP_SIGNING,
    EKU_PRECERT_SIGNING,
    EKU_SERVER_AUTH,
)

_TLS_OR_EMAIL_PURPOSES = frozenset({EKU_SERVER_AUTH, EKU_CLIENT_AUTH, EKU_EMAIL_PROTECTION, EKU_ANY})


def classify(
    *,
    is_ca: bool,
    self_issued: bool,
    self_signed: bool | None,
    ski_hex: str | None,
    aki_hex: str | None,
    eku_oids: Collection[str],
    eku_absent: bool,
    name_constraints: bool,
    has_tls_san: bool,
    basic_constraints_present: bool = True,
) -> CertKind:
    """Decide the kind of a certificate; the first matching rule wins.

    CA certificates (basicConstraints cA=TRUE). A self-signed certificate *without* a
    basicConstraints extension (every v1 certificate, and some old v3 roots) is a trust anchor by
    convention (RFC 5280 6.1.1(d); CCADB lists such roots), so it counts as a CA here too;
    ``is_ca`` still reports the extension alone. cA=FALSE is never a CA.

    1. ``root``: self-signed. When the signature could not be checked (``self_signed is None``),
       a self-issued certificate whose AKI is absent or equals its SKI counts as self-signed.
       A self-issued certificate whose signature does *not* verify with its own key (a key
       rollover certificate) is not a root.
    2. ``precert_signing_ca``: the EKU contains Precertificate Signing (1.3.6.1.4.1.11129.2.4.4).
    3. ``tc_sub_ca``: technically constrained in the sense of BR 7.1.2.3 / 7.1.2.5 and Mozilla
       Root Store Policy 5.3.1. The EKU extension must be present and must not contain
       anyExtendedKeyUsage; then either it lacks serverAuth (constrained away from TLS), or it
       has serverAuth and nameConstraints is present (a name-constrained TLS CA). A CA without
       EKU can issue for every purpose, so nameConstraints alone does not constrain it.
    4. ``sub_ca``: every other CA certificate.

    End-entity certificates:

    5. ``ocsp_responder``: the EKU contains id-kp-OCSPSigning and none of serverAuth,
       clientAuth, emailProtection, anyExtendedKeyUsage.
    6. ``tls_leaf``: the EKU contains serverAuth, or the EKU is absent or contains
       anyExtendedKeyUsage and a dNSName or iPAddress SAN is present (``has_tls_san``).
    7. ``other_leaf``: everything else.

    An absent EKU is never read as "any EKU" for OCSP signing: a CA without EKU is no OCSP signer.
    """
    legacy_trust_anchor = not basic_constraints_present and self_issued and self_signed is not False
    if is_ca or legacy_trust_anchor:
        if self_issued and (self_signed or (self_signed is None and aki_hex in (None, ski_hex))):
            return CertKind.ROOT
        if EKU_PRECERT_SIGNING in eku_oids:
            return CertKind.PRECERT_SIGNING_CA
        eku_restricts = not eku_absent and EKU_ANY not in eku_oids
        if eku_restricts and (EKU_SERVER_AUTH not in eku_oids or name_constraints):
            return CertKind.TC_SUB_CA
        return CertKind.SUB_CA
    if EKU_OCSP_SIGNING in eku_oids and _TLS_OR_EMAIL_PURPOSES.isdisjoint(eku_oids):
        return CertKind.OCSP_RESPONDER
    if EKU_SERVER_AUTH in eku_oids or ((eku_absent or EKU_ANY in eku_oids) and has_tls_san):
        return CertKind.TLS_LEAF
    return CertKind.OTHER_LEAF
