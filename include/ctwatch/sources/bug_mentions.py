"""What a Bugzilla text (a summary or a comment) names a certificate by: SHA-256 fingerprints,
crt.sh IDs, and serial numbers. Pure text matching; ctwatch.warehouse.bug_mentions resolves the
names to stored certificates.

A serial number alone names no certificate (serials repeat across CAs): it counts only where the
same text names the issuer too (`names_issuer`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509

SHA256_HEX_DIGITS = 64
MIN_SERIAL_HEX_DIGITS = 8

# A maximal run of hex digits: byte pairs joined by ':' or by ' ', or unseparated digits, with an
# optional 0x. The atomic group keeps a run whole: when a letter or digit follows it, it is no
# match at all rather than a shorter one, so no fingerprint is cut out of a longer run. That check
# is made after the match (`_hex_runs`): as a lookahead it had the regex try every byte pair of a
# failing run again as a start, quadratic in the run's length (14 s for 48 kB of "ab:").
_HEX_RUN = re.compile(
    r"(?<![0-9a-z])(?:0x)?(?>[0-9a-f]{2}(?::[0-9a-f]{2})+|[0-9a-f]{2}(?: [0-9a-f]{2})+|[0-9a-f]+)",
    re.IGNORECASE,
)
_LETTER_OR_DIGIT = re.compile(r"[0-9a-z]", re.IGNORECASE)
# https://crt.sh/?id=N, also with other parameters before or after it. crt.sh IDs are BIGINTs: a
# longer number names no certificate (and int() refuses numbers of more than 4300 digits).
_CRTSH_URL_ID = re.compile(r"crt\.sh/?\?(?:[^\s#&]*&)*id=(\d{1,19})(?!\d)", re.IGNORECASE)
# "crt.sh ID N", "crt.sh id: N"
_CRTSH_ID_WORDS = re.compile(r"crt\.sh\s+id\s*[:#]?\s*(\d{1,19})(?!\d)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class NamedIdentifiers:
    """The certificate identifiers one text holds."""

    sha256: frozenset[str]  # lower-case hex, no separators
    crtsh_ids: frozenset[int]
    serials: frozenset[str]  # in ParsedCert.serial_hex form; a certificate's only with its issuer


def normalise_serial(written: str) -> str:
    """A serial number as a text writes it ("00:A1:B2", "0x0a1b", "A1 B2") in ParsedCert.serial_hex
    form: lower-case hex without separators or leading zeros. Raises ValueError for non-hex text."""
    digits = written.strip().lower().removeprefix("0x").replace(":", "").replace(" ", "")
    if not digits or any(d not in "0123456789abcdef" for d in digits):
        raise ValueError(f"{written!r} is no hex serial number")
    return digits.lstrip("0") or "0"


def _hex_runs(text: str) -> Iterator[str]:
    position = 0
    while (match := _HEX_RUN.search(text, position)) is not None:
        position = match.end()
        if _LETTER_OR_DIGIT.match(text, position) is None:
            yield match.group()


def named_identifiers(text: str) -> NamedIdentifiers:
    """The SHA-256 fingerprints, crt.sh IDs and serial-number candidates `text` holds.

    A fingerprint is 64 hex digits, unseparated or as 32 byte pairs between ':' or ' ', not part
    of a longer run. A serial candidate is any other run of at least 8 hex digits.
    """
    fingerprints: set[str] = set()
    serials: set[str] = set()
    for run in _hex_runs(text):
        digits = run.lower().removeprefix("0x").replace(":", "").replace(" ", "")
        if len(digits) == SHA256_HEX_DIGITS:
            fingerprints.add(digits)
        elif len(digits) >= MIN_SERIAL_HEX_DIGITS:
            serials.add(normalise_serial(digits))
    crtsh_ids = {
        int(m.group(1)) for pattern in (_CRTSH_URL_ID, _CRTSH_ID_WORDS) for m in pattern.finditer(text)
    }
    return NamedIdentifiers(frozenset(fingerprints), frozenset(crtsh_ids), frozenset(serials))


def issuer_label(issuer_rfc4514: str) -> str:
    """How a text names an issuer: the common name of an RFC 4514 name ("CN=Sim Root,O=Sim" ->
    "Sim Root"), the most specific one if there are several; the whole name if it has none or
    cannot be read."""
    try:
        common_names = x509.Name.from_rfc4514_string(issuer_rfc4514).get_attributes_for_oid(
            x509.NameOID.COMMON_NAME
        )
    except ValueError:
        return issuer_rfc4514
    # RFC 4514 text lists the most specific RDN first; the parsed Name is in DER order
    labels = [str(a.value) for a in reversed(common_names) if str(a.value).strip()]
    return labels[0] if labels else issuer_rfc4514


def comparable(text: str) -> str:
    """`text` for name matching: case folded, each run of white space one blank."""
    return _WHITESPACE.sub(" ", text).strip().casefold()


def names_issuer(comparable_text: str, label: str) -> bool:
    """Whether a text (already `comparable`) names the issuer `label` as a whole phrase, in any case."""
    wanted = comparable(label)
    if not wanted:
        return False
    return re.search(r"(?<!\w)" + re.escape(wanted) + r"(?!\w)", comparable_text) is not None
