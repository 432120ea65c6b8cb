"""CRLs read as a stream: the DER reader (`reader`, with `entries` and `extensions`), one-file checks
(`scan`), and the `crl inspect` command."""

from ctwatch.crl._der import CrlFormatError
from ctwatch.crl.entries import CrlEntry
from ctwatch.crl.extensions import IssuingDistributionPoint
from ctwatch.crl.reader import CrlHeader, CrlReader, CrlTrailer, SignatureStatus, open_crl
from ctwatch.crl.scan import CrlFinding, CrlScan, Severity, scan_crl

__all__ = [
    "CrlEntry",
    "CrlFinding",
    "CrlFormatError",
    "CrlHeader",
    "CrlReader",
    "CrlScan",
    "CrlTrailer",
    "IssuingDistributionPoint",
    "Severity",
    "SignatureStatus",
    "open_crl",
    "scan_crl",
]
