"""The documents rules and revocation windows cite: their publishers, effective dates and the BR
version in force in July 2020."""

from __future__ import annotations

from datetime import date
from typing import Final

from ctwatch.rules._model import Citation

CABF: Final = "CA/Browser Forum"
IETF: Final = "IETF"
BR: Final = "CA/Browser Forum Baseline Requirements"

# BR 1.0 (ballot 62) took effect on 2012-07-01; its OCSP section already required nocheck in a
# delegated responder's certificate (numbered 13.2.5 then, 4.9.9 after the RFC 3647 conversion).
BR_1_0_EFFECTIVE: Final = date(2012, 7, 1)
# SC062 "Certificate Profiles Update" (BR 2.0.0) took effect on 2023-09-15: first text naming OCSPSigning.
SC062_EFFECTIVE: Final = date(2023, 9, 15)

# The BR in force in July 2020, at commit d9b360f of cabforum/servercert.
BR_1_7_0_URL: Final = "https://github.com/cabforum/servercert/blob/d9b360f/docs/BR.md"
BR_1_7_0_4_9_9: Final = Citation(
    BR, "1.7.0", "4.9.9", f"{BR_1_7_0_URL}#499-on-line-revocationstatus-checking-availability"
)
RFC_6960_4_2_2_2: Final = Citation(
    "RFC 6960", "June 2013", "4.2.2.2", "https://www.rfc-editor.org/rfc/rfc6960#section-4.2.2.2"
)
