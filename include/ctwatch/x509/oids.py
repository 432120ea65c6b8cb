"""Dotted OIDs the analyser and the rules compare against."""

from typing import Final

EKU_SERVER_AUTH: Final = "1.3.6.1.5.5.7.3.1"
EKU_CLIENT_AUTH: Final = "1.3.6.1.5.5.7.3.2"
EKU_EMAIL_PROTECTION: Final = "1.3.6.1.5.5.7.3.4"
EKU_OCSP_SIGNING: Final = "1.3.6.1.5.5.7.3.9"
EKU_ANY: Final = "2.5.29.37.0"
EKU_PRECERT_SIGNING: Final = "1.3.6.1.4.1.11129.2.4.4"

EXT_OCSP_NOCHECK: Final = "1.3.6.1.5.5.7.48.1.5"
EXT_PRECERT_POISON: Final = "1.3.6.1.4.1.11129.2.4.3"

AIA_OCSP: Final = "1.3.6.1.5.5.7.48.1"
AIA_CA_ISSUERS: Final = "1.3.6.1.5.5.7.48.2"
