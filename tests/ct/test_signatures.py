"""Tree head signatures: real RFC 6962 STHs and a real static-ct-api checkpoint, plus signing round trips."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ctwatch.ct.signatures import (
    CheckpointError,
    SignatureError,
    SignedTreeHead,
    checkpoint_key_id,
    log_id,
    parse_checkpoint,
    sign_checkpoint,
    sign_tree_head,
    verify_checkpoint,
    verify_tree_head,
)

CT_API = Path(__file__).resolve().parents[1] / "fixtures" / "real" / "ct_api"
RFC6962 = CT_API / "rfc6962"
STATIC_CT = CT_API / "static_ct"


def load_sth(name: str) -> SignedTreeHead:
    data = json.loads((RFC6962 / name).read_text())
    return SignedTreeHead(
        tree_size=data["tree_size"],
        timestamp_ms=data["timestamp"],
        root_hash=base64.b64decode(data["sha256_root_hash"]),
        signature=base64.b64decode(data["tree_head_signature"]),
    )


def pilot_key_der() -> bytes:
    key = serialization.load_pem_public_key((RFC6962 / "pilot_log_public_key.pem").read_bytes())
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def spki_der(private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_real_pilot_and_argon2024_tree_heads_verify() -> None:
    verify_tree_head(load_sth("pilot_get-sth_2014-04-04.json"), pilot_key_der())
    summary = json.loads((RFC6962 / "_verification_and_parse_summary.json").read_text())
    argon_key = base64.b64decode(summary["argon2024_get-sth_2024-03-28.json"]["key_b64"])
    verify_tree_head(load_sth("argon2024_get-sth_2024-03-28.json"), argon_key)


def test_pilot_log_id_is_the_key_hash() -> None:
    # Pilot's LogID as published in Google's log lists.
    assert (
        base64.b64encode(log_id(pilot_key_der())).decode() == "pLkJkLQYWBSHuxOizGdwCjw1mAT5G9+443fNDsgN3BA="
    )


def test_fake_and_altered_tree_heads_fail_with_a_reason() -> None:
    with pytest.raises(SignatureError, match="not SHA-256"):
        verify_tree_head(load_sth("get-sth_size4_FAKE_SIGNATURE.json"), pilot_key_der())
    pilot = load_sth("pilot_get-sth_2014-04-04.json")
    grown = SignedTreeHead(pilot.tree_size + 1, pilot.timestamp_ms, pilot.root_hash, pilot.signature)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_tree_head(grown, pilot_key_der())
    truncated = SignedTreeHead(pilot.tree_size, pilot.timestamp_ms, pilot.root_hash, pilot.signature[:-1])
    with pytest.raises(SignatureError, match="announces"):
        verify_tree_head(truncated, pilot_key_der())
    summary = json.loads((RFC6962 / "_verification_and_parse_summary.json").read_text())
    argon_key = base64.b64decode(summary["argon2024_get-sth_2024-03-28.json"]["key_b64"])
    with pytest.raises(SignatureError, match="does not verify"):
        verify_tree_head(pilot, argon_key)
    with pytest.raises(SignatureError, match="SubjectPublicKeyInfo"):
        verify_tree_head(pilot, b"\x30\x03garbage")


@pytest.mark.parametrize(
    "private_key",
    [ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(public_exponent=65537, key_size=2048)],
    ids=["ecdsa-p256", "rsa-2048"],
)
def test_signed_tree_heads_round_trip(private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    root = bytes(range(32))
    signature = sign_tree_head(private_key, 1_700_000_000_000, 42, root)
    verify_tree_head(SignedTreeHead(42, 1_700_000_000_000, root, signature), spki_der(private_key))
    with pytest.raises(SignatureError):
        verify_tree_head(SignedTreeHead(42, 1_700_000_000_001, root, signature), spki_der(private_key))


def rome() -> tuple[bytes, str, bytes]:
    details = json.loads((STATIC_CT / "rome2024h1_checkpoint_verification.json").read_text())
    return (
        (STATIC_CT / "rome2024h1_checkpoint.txt").read_bytes(),
        details["origin"],
        base64.b64decode(details["public_key_spki_b64"]),
    )


def test_real_rome_checkpoint_verifies() -> None:
    note, origin, key = rome()
    checkpoint, timestamp_ms = verify_checkpoint(note, origin, key)
    assert checkpoint.tree_size == 115474666
    assert timestamp_ms == 1711519390034
    assert checkpoint.root_hash == base64.b64decode("2q1K6aiIJR+F7TyhiWOghoWOjY0/3dVBLsBbAvB4xCw=")
    assert checkpoint_key_id(origin, key).hex() == "78f4abae"  # the key hash of its verifier string


def test_modified_rome_checkpoint_fails() -> None:
    note, origin, key = rome()
    lines = note.split(b"\n")
    lines[1] = b"115474667"  # one more entry than was signed
    with pytest.raises(SignatureError, match="does not verify"):
        verify_checkpoint(b"\n".join(lines), origin, key)
    signature_at = note.index("\u2014".encode()) + 40
    altered = note[:signature_at] + (b"A" if note[signature_at : signature_at + 1] != b"A" else b"B")
    altered += note[signature_at + 1 :]
    with pytest.raises(SignatureError):
        verify_checkpoint(altered, origin, key)
    with pytest.raises(SignatureError, match="origin"):
        verify_checkpoint(note, "rome.ct.filippo.io/2024h2", key)


def test_witness_signatures_are_ignored_and_missing_log_signature_fails() -> None:
    note, origin, key = rome()
    witness = "\u2014 witness.example/w1 " + base64.b64encode(b"\x01\x02\x03\x04" + bytes(64)).decode() + "\n"
    checkpoint, _ = verify_checkpoint(note + witness.encode(), origin, key)
    assert [s.key_name for s in checkpoint.signatures] == [origin, "witness.example/w1"]
    body_only = note[: note.index(b"\n\n") + 2] + witness.encode()
    with pytest.raises(SignatureError, match="no signature by the log key"):
        verify_checkpoint(body_only, origin, key)


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (b"origin\n12\n", "no blank line"),
        (b"origin\n1x\n" + b"A" * 44 + b"\n\n\xe2\x80\x94 k AAAAAAA=\n", "not a decimal"),
        (b"origin\n12\nAAAA\n\n\xe2\x80\x94 k AAAAAAA=\n", "not 32"),
        (b"origin\n12\n\n\xe2\x80\x94 k AAAAAAA=\n", "needs origin, size and root"),
        (b"o\n1\n" + base64.b64encode(bytes(32)) + b"\n\n- k AAAAAAA=\n", "em dash"),
        (b"o\n1\n" + base64.b64encode(bytes(32)) + b"\n\n\xe2\x80\x94 k !!\n", "base64"),
        (b"o\x01\n1\n\n", "control characters"),
        (b"\xff\n", "not UTF-8"),
    ],
)
def test_malformed_checkpoints_raise_checkpoint_error(note: bytes, reason: str) -> None:
    with pytest.raises(CheckpointError, match=reason):
        parse_checkpoint(note)


def test_signed_checkpoint_round_trip() -> None:
    private_key = ec.generate_private_key(ec.SECP256R1())
    root = bytes(range(32))
    note = sign_checkpoint(
        "sim.example/2020", 1234, root, 1_600_000_000_000, private_key, spki_der(private_key)
    )
    checkpoint, timestamp_ms = verify_checkpoint(note, "sim.example/2020", spki_der(private_key))
    assert (checkpoint.tree_size, checkpoint.root_hash, timestamp_ms) == (1234, root, 1_600_000_000_000)
    assert checkpoint.extension_lines == ()
