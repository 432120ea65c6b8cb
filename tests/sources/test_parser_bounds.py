"""Parsers refuse what is past their bounds with their own error: a gzip tile or a CRX3-packed
CRLSet that expands past its bound (no unbounded memory), a CSV field past the csv module's limit,
a crt.sh ID too long for a BIGINT."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from datetime import UTC, datetime

import pytest

from ctwatch.sources import crlset, crtsh, static_ct
from ctwatch.sources.http import BodyError
from ctwatch.warehouse.crtsh_ids import is_crtsh_id


def test_a_gzip_tile_expanding_past_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(static_ct, "MAX_TILE_BYTES", 1000)
    assert static_ct._gunzip_if_needed(gzip.compress(b"\0" * 1000)) == b"\0" * 1000
    with pytest.raises(BodyError, match="expands to more than 1000 bytes"):
        static_ct._gunzip_if_needed(gzip.compress(b"\0" * 1001))


def _crx3(member: bytes) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("crl-set", member)
    return b"Cr24" + struct.pack("<II", 3, 0) + archive.getvalue()


def test_a_crx3_crlset_larger_than_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crlset, "MAX_CRLSET_BYTES", 1000)
    assert crlset.unwrap_crx3(_crx3(b"\0" * 1000)) == b"\0" * 1000
    with pytest.raises(crlset.CrlSetError, match="crl-set of 1001 bytes, more than 1000"):
        crlset.unwrap_crx3(_crx3(b"\0" * 1001))


def test_a_crtsh_csv_field_past_the_csv_modules_limit_is_a_record_error() -> None:
    body = b"crtsh_id,sha256,revocation_date,last_seen_check_date\n12," + b"a" * 200_000 + b",,\n"
    snapshot = crtsh.parse_ocsp_signing_ca_csv(
        body, location="x", observed_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert [error.record_ref for error in snapshot.errors] == ["report"]
    assert "field larger than field limit" in snapshot.errors[0].error


def test_a_crtsh_id_too_long_for_a_bigint_is_refused_not_an_exception() -> None:
    assert is_crtsh_id("9223372036854775807")
    assert not is_crtsh_id("9223372036854775808")
    assert not is_crtsh_id("9" * 5000)  # int() would raise: Python limits a conversion to 4300 digits
