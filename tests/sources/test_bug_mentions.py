"""The bug-text matcher on hand-written texts: SHA-256 fingerprints in any case and with separators
(never cut out of a longer hex run, never taken as a serial), crt.sh IDs in URLs and words, serial
numbers in ctwatch's serial_hex form, and issuer names."""

from __future__ import annotations

import time

import pytest

from ctwatch.sources.bug_mentions import (
    comparable,
    issuer_label,
    named_identifiers,
    names_issuer,
    normalise_serial,
)

# SHA-256 of the ASCII bytes "test"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
SHA_COLONS = "9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08"
SHA_SPACES = "9f 86 d0 81 88 4c 7d 65 9a 2f ea a0 c5 5a d0 15 a3 bf 4f 1b 2b 0b 82 2c d1 5d 6c 15 b0 f0 0a 08"


@pytest.mark.parametrize(
    "text",
    [
        f"The affected certificate is {SHA}.",
        f"SHA-256 fingerprint: {SHA.upper()}",
        f"sha256={SHA_COLONS}, revoked late",
        f"Fingerprint ({SHA_SPACES}) of the intermediate",
        f"https://crt.sh/?q={SHA.upper()}",
    ],
)
def test_a_sha256_in_any_case_and_with_separators_is_found(text: str) -> None:
    assert named_identifiers(text).sha256 == {SHA}


@pytest.mark.parametrize(
    "text",
    [
        f"a 70-digit run: 012{SHA}abc",  # 3 + 64 + 3 hex digits
        f"33 byte pairs: {SHA_COLONS}:FF",
        f"a 63-digit run: {SHA[:-1]}",
    ],
)
def test_a_sha256_must_be_a_whole_run_of_64_hex_digits(text: str) -> None:
    assert named_identifiers(text).sha256 == frozenset()


def test_a_sha256_is_not_taken_as_a_serial() -> None:
    found = named_identifiers(f"certificate {SHA} and {SHA_COLONS} and {SHA_SPACES}")
    assert found.sha256 == {SHA}
    assert found.serials == frozenset()


def test_crtsh_ids_in_urls_and_words() -> None:
    text = (
        "See https://crt.sh/?id=2835394 and crt.sh/?id=12&opt=cablint, "
        "https://crt.sh/?opt=x509lint&id=13, crt.sh ID 14, crt.sh id: 15 and crt.sh ID:16. "
        "Not an id: https://crt.sh/?caid=17 and crt.sh/?Identity=18"
    )
    assert named_identifiers(text).crtsh_ids == {2835394, 12, 13, 14, 15, 16}


def test_a_long_run_followed_by_a_letter_is_read_in_linear_time() -> None:
    started = time.monotonic()
    found = named_identifiers("ab:" * 20_000 + "abg, " + "ab " * 20_000 + "abg")
    assert time.monotonic() - started < 2  # with the check as a regex lookahead: over 20 s
    assert found == named_identifiers("")


def test_a_number_longer_than_a_bigint_is_no_crtsh_id() -> None:
    # 5000 digits: more than int() converts (tests/fuzz/corpus/bugzilla_comments/crash-ad3a9dd5...)
    text = f"crt.sh ID {'1' * 5000}, https://crt.sh/?id={'2' * 20} and crt.sh ID {'9' * 19}"
    assert named_identifiers(text).crtsh_ids == {int("9" * 19)}


@pytest.mark.parametrize(
    ("text", "serial"),
    [
        ("Serial Number: 00:A1:B2:C3:D4:E5", "a1b2c3d4e5"),  # the DER sign byte is no digit of it
        ("serial 0x00000A1B2C3D4E, revoked", "a1b2c3d4e"),
        ("serial 04 f3 aa 10 9b", "4f3aa109b"),
        ("serial:7D3E19A0 (Sim Root)", "7d3e19a0"),
    ],
)
def test_serials_are_written_as_serial_hex(text: str, serial: str) -> None:
    assert named_identifiers(text).serials == {serial}


def test_short_hex_runs_are_no_serials() -> None:
    assert named_identifiers("bug 1650910 at 2020-07-03, code abc1234, decade").serials == frozenset()


def test_normalise_serial() -> None:
    assert normalise_serial("00:0A:FF") == "aff"
    assert normalise_serial("0x0000") == "0"
    with pytest.raises(ValueError, match="no hex serial"):
        normalise_serial("12:zz")


def test_the_issuer_is_named_by_its_common_name_or_else_its_whole_name() -> None:
    assert issuer_label(r"CN=Sim Secom Root CA,O=SECOM Trust Systems\, Inc.,C=JP") == "Sim Secom Root CA"
    assert issuer_label("O=Example Trust,C=JP") == "O=Example Trust,C=JP"
    assert issuer_label("not a name") == "not a name"
    text = comparable("Serial 7D3E19A0 under SIM SECOM\n  root ca was revoked late.")
    assert names_issuer(text, "Sim Secom Root CA")
    assert not names_issuer(comparable("issued by Sim Secom Root CA2"), "Sim Secom Root CA")
