"""CRLs read as a stream: the DER reader, one-file checks, and the `crl inspect` command."""

from ctwatch.crl._der import CrlFormatError
from ctwatch.crl.reader import (
    CrlEntry,
    CrlHeader,
    CrlReader,
    CrlTrailer,
    IssuingDistributionPoint,
    SignatureStatus,
    open_crl,
)
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
