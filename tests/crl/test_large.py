"""A CRL of more than 100 MB, written by a streaming generator and signed for real over the streamed
TBS, passes `crl inspect` in a subprocess whose peak RSS stays far below the CRL's size."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.x509.oid import NameOID

from tests.conftest import REPO_ROOT
from tests.crl.factory import T0, self_signed

ENTRIES = 2_200_000  # 49 bytes each: about 108 MB
PEAK_RSS_BOUND_BYTES = 300 * 1024 * 1024
# The child reports its own high-water mark: VmHWM belongs to the process image after exec, whereas
# ru_maxrss would also count the forked copy of the (large) pytest process.
_INSPECT_AND_REPORT_PEAK = (
    "import sys\n"
    "from ctwatch.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stderr.write(next(line for line in open('/proc/self/status') if line.startswith('VmHWM:')))\n"
    "sys.exit(code)\n"
)
_SHA256_WITH_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
_REASON_KEY_COMPROMISE = bytes.fromhex("300c300a0603551d1504030a0101")


def _tlv(tag: int, length: int) -> bytes:
    """A DER header for `length` content bytes."""
    if length < 0x80:
        return bytes([tag, length])
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big")


def _utc_time(moment: object) -> bytes:
    text = moment.strftime("%y%m%d%H%M%SZ").encode()  # type: ignore[attr-defined]
    return _tlv(0x17, len(text)) + text


def _write_large_crl(path: Path, key: rsa.RSAPrivateKey, issuer_name: x509.Name) -> int:
    revoked_at = _utc_time(T0 - timedelta(days=1))
    entry_content = 18 + len(revoked_at) + len(_REASON_KEY_COMPROMISE)
    entry_prefix = _tlv(0x30, entry_content) + b"\x02\x10"
    revoked_length = ENTRIES * (len(entry_prefix) - 2 + entry_content)
    head = (
        b"\x02\x01\x01"
        + _SHA256_WITH_RSA
        + issuer_name.public_bytes()
        + _utc_time(T0)
        + _utc_time(T0 + timedelta(days=7))
    )
    crl_number = bytes.fromhex("300c300a0603551d140403020107")  # cRLNumber 7
    extensions = _tlv(0xA0, len(crl_number)) + crl_number
    revoked_header = _tlv(0x30, revoked_length)
    tbs_length = len(head) + len(revoked_header) + revoked_length + len(extensions)
    tbs_header = _tlv(0x30, tbs_length)
    signature_tlv_length = len(_SHA256_WITH_RSA) + 4 + 1 + 256
    outer_header = _tlv(0x30, len(tbs_header) + tbs_length + signature_tlv_length)
    tbs_hash = hashlib.sha256()
    with path.open("wb") as out:
        out.write(outer_header)
        for piece in (tbs_header, head, revoked_header):
            out.write(piece)
            tbs_hash.update(piece)
        batch = 20_000
        for start in range(0, ENTRIES, batch):
            chunk = b"".join(
                entry_prefix + ((1 << 120) | serial).to_bytes(16, "big") + revoked_at + _REASON_KEY_COMPROMISE
                for serial in range(start, min(start + batch, ENTRIES))
            )
            out.write(chunk)
            tbs_hash.update(chunk)
        out.write(extensions)
        tbs_hash.update(extensions)
        signature = key.sign(tbs_hash.digest(), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        out.write(_SHA256_WITH_RSA + b"\x03\x82\x01\x01\x00" + signature)
    return path.stat().st_size


@pytest.mark.slow
def test_large_crl_streams_with_bounded_memory(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Large CRL CA")])
    issuer = self_signed(key, name).sign(key, hashes.SHA256())
    issuer_path = tmp_path / "issuer.pem"
    issuer_path.write_bytes(issuer.public_bytes(serialization.Encoding.PEM))
    crl_path = tmp_path / "large.crl"
    size_bytes = _write_large_crl(crl_path, key, name)
    assert size_bytes > 100 * 1024 * 1024

    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _INSPECT_AND_REPORT_PEAK,
            "crl",
            "inspect",
            str(crl_path),
            "--issuer",
            str(issuer_path),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "include")},
        capture_output=True,
        check=False,
    )
    elapsed_s = time.monotonic() - started
    assert result.returncode == 0, result.stderr.decode()
    peak_rss_bytes = int(result.stderr.decode().split("VmHWM:")[1].split()[0]) * 1024
    assert peak_rss_bytes < PEAK_RSS_BOUND_BYTES
    record = json.loads(result.stdout)
    assert record["entries"] == ENTRIES
    assert record["signature_valid"] is True
    assert record["crl_number"] == 7
    assert record["findings"] == []
    print(
        f"\nlarge CRL: {size_bytes / 1e6:.1f} MB, {elapsed_s:.1f} s, "
        f"peak RSS {peak_rss_bytes / 2**20:.1f} MiB"
    )
