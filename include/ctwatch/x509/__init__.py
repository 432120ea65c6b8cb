"""Certificate analyser: DER or PEM bytes -> ParsedCert (or CertError), with a kind.

cryptography parses first; certificates it refuses are decoded by pyasn1 (``parser="pyasn1"``),
so only bytes that are no certificate at all become a CertError. No function here raises.
"""

from ctwatch.x509._pyasn1 import name_to_rfc4514
from ctwatch.x509.analyse import analyse_bytes, analyse_der
from ctwatch.x509.classify import classify
from ctwatch.x509.model import CA_KINDS, CertError, CertKind, ParsedCert

__all__ = [
    "CA_KINDS",
    "CertError",
    "CertKind",
    "ParsedCert",
    "analyse_bytes",
    "analyse_der",
    "classify",
    "name_to_rfc4514",
]
