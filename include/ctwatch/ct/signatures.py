"""Tree head signatures: RFC 6962 STHs and static-ct-api signed checkpoints (c2sp tlog-checkpoint).

Both sign the same RFC 6962 §3.5 TreeHeadSignature structure with the log's key, as a TLS
DigitallySigned (ECDSA P-256 or RSA PKCS#1 v1.5, both over SHA-256). A checkpoint wraps it in a
c2sp signed note whose signature line carries `uint64 timestamp || DigitallySigned`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from typing import TypeAlias

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

_HASH_SHA256 = 4  # TLS HashAlgorithm.sha256
_SIG_RSA = 1  # TLS SignatureAlgorithm.rsa
_SIG_ECDSA = 3  # TLS SignatureAlgorithm.ecdsa
_V1 = 0
_TREE_HASH = 1  # SignatureType.tree_hash
_NOTE_SIGNATURE_TYPE_RFC6962 = 0x05  # c2sp signed-note key type for RFC6962NoteSignature
_SIGNATURE_LINE_PREFIX = "\u2014 "  # em dash and a space

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class SignatureError(Exception):
    """A tree head signature does not verify; `reason` says why (kept as evidence)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class CheckpointError(ValueError):
    """A checkpoint note is malformed; `reason` says where."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """An RFC 6962 `get-sth` answer; `signature` is the TLS DigitallySigned bytes."""

    tree_size: int
    timestamp_ms: int
    root_hash: bytes
    signature: bytes


def tree_head_signature_input(timestamp_ms: int, tree_size: int, root_hash: bytes) -> bytes:
    """The bytes a log signs for a tree head: RFC 6962 §3.5 TreeHeadSignature (v1, tree_hash)."""
    if len(root_hash) != 32:
        raise ValueError(f"root hash is {len(root_hash)} bytes, not 32")
    return struct.pack(">BBQQ", _V1, _TREE_HASH, timestamp_ms, tree_size) + root_hash


def log_id(public_key_der: bytes) -> bytes:
    """The RFC 6962 LogID: SHA-256 of the log's SubjectPublicKeyInfo DER."""
    return hashlib.sha256(public_key_der).digest()


def _load_public_key(public_key_der: bytes) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    try:
        key = serialization.load_der_public_key(public_key_der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SignatureError(f"log public key is not a usable SubjectPublicKeyInfo: {exc}") from exc
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise SignatureError(f"log key is on curve {key.curve.name}, RFC 6962 allows only P-256")
        return key
    if isinstance(key, rsa.RSAPublicKey):
        return key
    raise SignatureError(f"log key type {type(key).__name__} is neither ECDSA P-256 nor RSA")


def _verify_digitally_signed(digitally_signed: bytes, message: bytes, public_key_der: bytes) -> None:
    """Check a TLS DigitallySigned struct over `message`; exactly the whole struct must be consumed."""
    if len(digitally_signed) < 4:
        raise SignatureError(f"DigitallySigned is {len(digitally_signed)} bytes, shorter than its header")
    hash_alg, sig_alg, sig_length = struct.unpack_from(">BBH", digitally_signed)
    signature = digitally_signed[4:]
    if len(signature) != sig_length:
        raise SignatureError(
            f"DigitallySigned announces {sig_length} signature bytes, carries {len(signature)}"
        )
    if hash_alg != _HASH_SHA256:
        raise SignatureError(f"hash algorithm {hash_alg} is not SHA-256 (4)")
    key = _load_public_key(public_key_der)
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if sig_alg != _SIG_ECDSA:
                raise SignatureError(f"signature algorithm {sig_alg} does not match the ECDSA log key")
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            if sig_alg != _SIG_RSA:
                raise SignatureError(f"signature algorithm {sig_alg} does not match the RSA log key")
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureError("signature does not verify with the log key") from exc


def verify_tree_head(sth: SignedTreeHead, public_key_der: bytes) -> None:
    """Verify an RFC 6962 signed tree head with the log's SPKI DER key; raise SignatureError if it fails."""
    try:
        message = tree_head_signature_input(sth.timestamp_ms, sth.tree_size, sth.root_hash)
    except (ValueError, struct.error) as exc:
        raise SignatureError(f"tree head cannot be encoded: {exc}") from exc
    _verify_digitally_signed(sth.signature, message, public_key_der)


def _digitally_sign(private_key: PrivateKey, message: bytes) -> bytes:
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        signature = private_key.sign(message, ec.ECDSA(hashes.SHA256()))
        sig_alg = _SIG_ECDSA
    else:
        signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        sig_alg = _SIG_RSA
    return struct.pack(">BBH", _HASH_SHA256, sig_alg, len(signature)) + signature


def sign_tree_head(private_key: PrivateKey, timestamp_ms: int, tree_size: int, root_hash: bytes) -> bytes:
    """Sign a tree head as a log does: the DigitallySigned bytes of `tree_head_signature` (simulator)."""
    return _digitally_sign(private_key, tree_head_signature_input(timestamp_ms, tree_size, root_hash))


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line of a note: key name, 4-byte key id, and the signature bytes after the id."""

    key_name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A parsed c2sp tlog-checkpoint; `body` is the signed text (origin line to the last body newline)."""

    origin: str
    tree_size: int
    root_hash: bytes
    extension_lines: tuple[str, ...]
    signatures: tuple[NoteSignature, ...]
    body: bytes


def checkpoint_key_id(key_name: str, public_key_der: bytes) -> bytes:
    """Key id of an RFC 6962 note verifier: SHA-256(key name || 0x0A || 0x05 || LogID)[:4]."""
    material = key_name.encode() + b"\n" + bytes([_NOTE_SIGNATURE_TYPE_RFC6962]) + log_id(public_key_der)
    return hashlib.sha256(material).digest()[:4]


def _b64decode_strict(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CheckpointError(f"{what} is not valid base64") from exc


def parse_checkpoint(note: bytes) -> Checkpoint:
    """Parse a signed checkpoint note (c2sp signed-note, tlog-checkpoint); CheckpointError if malformed."""
    try:
        text = note.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CheckpointError(f"note is not UTF-8 (byte {exc.start})") from exc
    if any(ch < " " and ch != "\n" for ch in text):
        raise CheckpointError("note contains control characters other than newline")
    separator = text.rfind("\n\n")
    if separator < 0:
        raise CheckpointError("note has no blank line before its signatures")
    body, signature_block = text[: separator + 1], text[separator + 2 :]
    if not signature_block.endswith("\n"):
        raise CheckpointError("signature block does not end with a newline")
    signatures: list[NoteSignature] = []
    for line in signature_block[:-1].split("\n"):
        if not line.startswith(_SIGNATURE_LINE_PREFIX):
            raise CheckpointError(f"signature line does not start with an em dash: {line[:40]!r}")
        fields = line[len(_SIGNATURE_LINE_PREFIX) :].split(" ")
        if len(fields) != 2 or not fields[0] or "+" in fields[0]:
            raise CheckpointError(f"signature line is not '<key name> <base64>': {line[:40]!r}")
        raw = _b64decode_strict(fields[1], f"signature of {fields[0]!r}")
        if len(raw) < 5:
            raise CheckpointError(f"signature of {fields[0]!r} is shorter than key id + 1 byte")
        signatures.append(NoteSignature(fields[0], raw[:4], raw[4:]))
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(f"checkpoint body has {len(lines)} lines, needs origin, size and root hash")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin:
        raise CheckpointError("checkpoint origin line is empty")
    if not size_text.isascii() or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError(f"tree size line {size_text[:30]!r} is not a decimal number")
    if len(size_text) > 20 or int(size_text) >= 1 << 64:  # a uint64 has at most 20 digits
        raise CheckpointError(f"tree size {size_text[:30]!r} does not fit in 64 bits")
    root_hash = _b64decode_strict(root_text, "root hash line")
    if len(root_hash) != 32:
        raise CheckpointError(f"root hash is {len(root_hash)} bytes, not 32")
    return Checkpoint(
        origin=origin,
        tree_size=int(size_text),
        root_hash=root_hash,
        extension_lines=tuple(lines[3:]),
        signatures=tuple(signatures),
        body=body.encode(),
    )


def verify_checkpoint(note: bytes, origin: str, public_key_der: bytes) -> tuple[Checkpoint, int]:
    """Verify a static-ct-api checkpoint signed by the log; return (checkpoint, signed timestamp in ms).

    The log's key name is the origin. Signatures by other keys (witnesses) are ignored; raises
    CheckpointError when malformed, SignatureError when no valid signature of the log is present.
    """
    checkpoint = parse_checkpoint(note)
    if checkpoint.origin != origin:
        raise SignatureError(f"checkpoint origin {checkpoint.origin!r} is not the log's {origin!r}")
    key_id = checkpoint_key_id(origin, public_key_der)
    candidates = [s for s in checkpoint.signatures if s.key_name == origin and s.key_id == key_id]
    if not candidates:
        raise SignatureError(f"no signature by the log key {origin} ({key_id.hex()}) on the checkpoint")
    failures: list[str] = []
    for candidate in candidates:
        if len(candidate.signature) < 8:
            failures.append("note signature shorter than its timestamp")
            continue
        (timestamp_ms,) = struct.unpack_from(">Q", candidate.signature)
        message = tree_head_signature_input(timestamp_ms, checkpoint.tree_size, checkpoint.root_hash)
        try:
            _verify_digitally_signed(candidate.signature[8:], message, public_key_der)
        except SignatureError as exc:
            failures.append(exc.reason)
            continue
        return checkpoint, timestamp_ms
    raise SignatureError("checkpoint signature by the log does not verify: " + "; ".join(failures))


def sign_checkpoint(  # noqa: PLR0917 - positional order shared with the simulator
    origin: str,
    tree_size: int,
    root_hash: bytes,
    timestamp_ms: int,
    private_key: PrivateKey,
    public_key_der: bytes,
) -> bytes:
    """Produce a signed checkpoint note as a static-ct-api log serves it (simulator)."""
    body = f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"
    signed = struct.pack(">Q", timestamp_ms) + sign_tree_head(private_key, timestamp_ms, tree_size, root_hash)
    line = base64.b64encode(checkpoint_key_id(origin, public_key_der) + signed).decode()
    return f"{body}\n{_SIGNATURE_LINE_PREFIX}{origin} {line}\n".encode()
