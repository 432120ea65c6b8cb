"""CT entry decoding on real get-entries answers and a real static-ct-api data tile; encoders round trip."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from ctwatch.ct.entries import (
    EntryDecodeError,
    EntryType,
    LogEntry,
    decode_data_tile,
    decode_rfc6962_entry,
    decode_rfc6962_entry_b64,
    encode_merkle_tree_leaf,
    encode_precert_extra_data,
    encode_tile_leaf,
    encode_timestamped_entry,
    encode_x509_extra_data,
    leaf_index_extension,
    tile_leaf_hash,
)
from ctwatch.ct.merkle import leaf_hash

CT_API = Path(__file__).resolve().parents[1] / "fixtures" / "real" / "ct_api"
RFC6962 = CT_API / "rfc6962"
NAVIGLI = CT_API / "static_ct" / "navigli2025h2" / "tile"
GET_ENTRIES_FILES = [
    "pilot_get-entries_4_entries_2013-03-26.json",
    "get-entries_precert_GeoTrust_EV_TEST_CA_G4_2015-02-02.json",
    "get-entries_x509_GlobalSign_EV_G2_TEST_2014-11-13.json",
]


def _timestamped(entry: LogEntry) -> bytes:
    """The TimestampedEntry an entry was decoded from, encoded again."""
    return encode_timestamped_entry(
        entry.timestamp_ms, entry.entry_type, entry.leaf_der_or_tbs, entry.issuer_key_hash, entry.extensions
    )


def raw_items(name: str) -> list[dict[str, str]]:
    items: list[dict[str, str]] = json.loads((RFC6962 / name).read_text())["entries"]
    return items


@pytest.mark.parametrize("name", GET_ENTRIES_FILES)
def test_real_get_entries_decode_to_the_published_leaf_hashes(name: str) -> None:
    expected = json.loads((RFC6962 / "_verification_and_parse_summary.json").read_text())[name]
    items = raw_items(name)
    assert len(items) == len(expected)
    for index, (item, answer) in enumerate(zip(items, expected, strict=True)):
        entry = decode_rfc6962_entry_b64(index, item["leaf_input"], item["extra_data"])
        assert entry.index == index
        assert base64.b64encode(entry.leaf_hash).decode() == answer["merkle_leaf_hash_b64"]
        assert entry.leaf_hash == leaf_hash(base64.b64decode(item["leaf_input"]))
        assert entry.timestamp_ms == answer["timestamp_ms"]
        assert entry.entry_type.name.lower() + "_entry" == answer["entry_type"]
        chain = [x509.load_der_x509_certificate(der) for der in entry.chain]
        assert len(chain) == len(answer["chain"])
        assert chain[-1].subject == chain[-1].issuer  # every chain here ends at a self-issued root
        if entry.entry_type is EntryType.PRECERT:
            assert entry.issuer_key_hash is not None
            assert entry.issuer_key_hash.hex() == answer["issuer_key_hash_hex"]
            assert len(entry.leaf_der_or_tbs) == answer["tbs_len"]
            assert entry.precert_der is not None
            precert = x509.load_der_x509_certificate(entry.precert_der)
            assert precert.issuer == chain[0].subject
        else:
            assert entry.issuer_key_hash is None
            assert entry.precert_der is None
            leaf = x509.load_der_x509_certificate(entry.leaf_der_or_tbs)
            assert leaf.issuer == chain[0].subject


def test_real_data_tile_yields_exactly_its_level0_hash_tile() -> None:
    entries = decode_data_tile((NAVIGLI / "data" / "000").read_bytes(), 0)
    hash_tile = (NAVIGLI / "0" / "000").read_bytes()
    assert len(entries) == 256
    assert [entry.leaf_hash for entry in entries] == [hash_tile[i * 32 : (i + 1) * 32] for i in range(256)]
    assert [entry.index for entry in entries] == list(range(256))
    for entry in entries:
        assert entry.entry_type is EntryType.PRECERT
        assert entry.precert_der is not None
        assert entry.precert_der[0] == 0x30
        assert entry.chain
        assert all(len(fingerprint) == 32 for fingerprint in entry.chain)
        assert entry.extensions == leaf_index_extension(entry.index)


def test_data_tile_with_a_wrong_position_is_rejected() -> None:
    with pytest.raises(EntryDecodeError, match="leaf_index 0 where the tile position is 256") as caught:
        decode_data_tile((NAVIGLI / "data" / "000").read_bytes(), 256)
    assert caught.value.offset == 0


def test_encoders_round_trip_rfc6962_entries() -> None:
    pilot = [
        decode_rfc6962_entry_b64(i, item["leaf_input"], item["extra_data"])
        for i, item in enumerate(raw_items(GET_ENTRIES_FILES[0]))
    ]
    precert_item = raw_items(GET_ENTRIES_FILES[1])[0]
    precert = decode_rfc6962_entry_b64(0, precert_item["leaf_input"], precert_item["extra_data"])
    for entry in [*pilot, precert]:
        timestamped = _timestamped(entry)
        if entry.precert_der is not None:
            extra_data = encode_precert_extra_data(entry.precert_der, entry.chain)
        else:
            extra_data = encode_x509_extra_data(entry.chain)
        again = decode_rfc6962_entry(entry.index, encode_merkle_tree_leaf(timestamped), extra_data)
        assert again == entry


def test_encoders_round_trip_tile_leaves() -> None:
    originals = decode_data_tile((NAVIGLI / "data" / "000").read_bytes(), 0)[:3]
    tile = b""
    timestamped_entries = []
    for position, entry in enumerate(originals):
        timestamped = encode_timestamped_entry(
            entry.timestamp_ms,
            entry.entry_type,
            entry.leaf_der_or_tbs,
            entry.issuer_key_hash,
            leaf_index_extension(512 + position),
        )
        assert tile_leaf_hash(timestamped) != entry.leaf_hash  # the index is part of the leaf
        timestamped_entries.append(timestamped)
        tile += encode_tile_leaf(timestamped, entry.entry_type, entry.precert_der, entry.chain)
    decoded = decode_data_tile(tile, 512)
    assert [e.index for e in decoded] == [512, 513, 514]
    assert [e.precert_der for e in decoded] == [e.precert_der for e in originals]
    assert [e.leaf_hash for e in decoded] == [tile_leaf_hash(t) for t in timestamped_entries]
    assert decoded[2].leaf_hash == hashlib.sha256(b"\x00\x00\x00" + timestamped_entries[2]).digest()


@pytest.mark.parametrize(
    ("leaf_input", "extra_data", "reason"),
    [
        (b"\x01\x00", b"", "is not v1 timestamped_entry"),
        (b"\x00\x00\x00\x00", b"", "truncated TimestampedEntry header"),
        (b"\x00\x00" + bytes(8) + b"\x00\x07", b"", "unknown entry_type 7"),
        (b"\x00\x00" + bytes(8) + b"\x00\x00\x00\x00\x05abc", b"", "x509 certificate of 5 bytes runs past"),
        (
            b"\x00\x00" + bytes(8) + b"\x00\x00\x00\x00\x01\x30\x00\x00\xff",
            b"\x00\x00\x00",
            "trailing bytes after",
        ),
        (
            b"\x00\x00" + bytes(8) + b"\x00\x00\x00\x00\x01\x30\x00\x00",
            b"\x00\x00\x05\x00\x00",
            "extra_data:",
        ),
        (
            b"\x00\x00" + bytes(8) + b"\x00\x00\x00\x00\x01\x30\x00\x00",
            b"\x00\x00\x00\x00",
            "extra_data: 1 trailing",
        ),
    ],
)
def test_malformed_rfc6962_entries_raise_entry_decode_error(
    leaf_input: bytes, extra_data: bytes, reason: str
) -> None:
    with pytest.raises(EntryDecodeError, match=reason):
        decode_rfc6962_entry(0, leaf_input, extra_data)


def test_invalid_base64_is_an_entry_decode_error() -> None:
    with pytest.raises(EntryDecodeError, match="leaf_input is not valid base64"):
        decode_rfc6962_entry_b64(0, "AA!=", "")
    item = raw_items(GET_ENTRIES_FILES[0])[0]
    with pytest.raises(EntryDecodeError, match="extra_data is not valid base64"):
        decode_rfc6962_entry_b64(0, item["leaf_input"], item["extra_data"][:-2] + "!=")


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_corrupted_real_entries_never_escape_as_other_exceptions(data: st.DataObject) -> None:
    item = data.draw(st.sampled_from([i for name in GET_ENTRIES_FILES for i in raw_items(name)]))
    leaf_input, extra_data = base64.b64decode(item["leaf_input"]), base64.b64decode(item["extra_data"])
    cut = data.draw(st.integers(min_value=0, max_value=len(leaf_input) - 1))
    with pytest.raises(EntryDecodeError):
        decode_rfc6962_entry(0, leaf_input[:cut], extra_data)
    cut = data.draw(st.integers(min_value=0, max_value=len(extra_data) - 1))
    with pytest.raises(EntryDecodeError):
        decode_rfc6962_entry(0, leaf_input, extra_data[:cut])
    position = data.draw(st.integers(min_value=0, max_value=len(leaf_input) - 1))
    mutated = bytearray(leaf_input)
    mutated[position] ^= data.draw(st.integers(min_value=1, max_value=255))
    with contextlib.suppress(EntryDecodeError):
        decode_rfc6962_entry(0, bytes(mutated), extra_data)


def entry_boundaries(tile: bytes) -> list[int]:
    """End offsets of each TileLeaf of a decodable tile, from re-encoding its entries."""
    ends, position = [], 0
    for entry in decode_data_tile(tile, 0):
        timestamped = _timestamped(entry)
        position += len(encode_tile_leaf(timestamped, entry.entry_type, entry.precert_der, entry.chain))
        ends.append(position)
    return ends


TILE = (NAVIGLI / "data" / "000").read_bytes()
TILE_ENTRY_ENDS = entry_boundaries(TILE)


@settings(max_examples=60, deadline=None)
@given(
    cut=st.one_of(st.integers(min_value=1, max_value=len(TILE) - 1), st.sampled_from(TILE_ENTRY_ENDS[:-1]))
)
def test_truncated_data_tile_is_a_shorter_tile_or_an_entry_decode_error(cut: int) -> None:
    assert TILE_ENTRY_ENDS[-1] == len(TILE)
    if cut in TILE_ENTRY_ENDS:  # a cut between two entries is a valid partial tile
        assert len(decode_data_tile(TILE[:cut], 0)) == TILE_ENTRY_ENDS.index(cut) + 1
    else:
        with pytest.raises(EntryDecodeError) as caught:
            decode_data_tile(TILE[:cut], 0)
        assert max([0, *(end for end in TILE_ENTRY_ENDS if end < cut)]) <= caught.value.offset <= cut
