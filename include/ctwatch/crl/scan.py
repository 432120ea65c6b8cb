"""Check one CRL file in one streaming pass: header, entries, extensions, signature -> findings.

`scan_crl` never raises on bad input: a file that is no CertificateList gives a CrlScan whose
`error` says why. Memory stays bounded: entries are not kept; duplicate serials are found with a
Bloom filter and, only when it reports candidates, confirmed exactly by a second pass.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from ctwatch.crl._der import CrlFormatError
from ctwatch.crl.entries import CrlEntry
from ctwatch.crl.reader import CrlHeader, CrlTrailer, SignatureStatus, open_crl
from ctwatch.evidence.revocation import CRLReason
from ctwatch.x509 import ParsedCert

MAX_FINDINGS_PER_CODE = 20  # per-entry findings beyond this are counted, not listed
_BLOOM_HASHES = 4
_BLOOM_MIN_BITS = 1 << 16
_BLOOM_MAX_BITS = 1 << 29  # 64 MiB
_DIGEST_MODULUS = 1 << 256


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


@dataclass(frozen=True, slots=True)
class CrlFinding:
    code: str
    severity: Severity
    detail: str
    serial_hex: str | None = None
    at: datetime | None = None  # the moment the finding is about (a revocationDate, a nextUpdate, ...)

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "detail": self.detail,
            "serial_hex": self.serial_hex,
            "at": None if self.at is None else self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class CrlScan:
    """The result of reading one CRL file: header and trailer, or the error that stopped it."""

    path: Path
    header: CrlHeader | None
    trailer: CrlTrailer | None
    entry_count: int
    entry_set_digest: str | None  # order-independent hash of (serial, date, reason) of all entries
    findings: tuple[CrlFinding, ...]
    error: str | None

    @property
    def signature_valid(self) -> bool | None:
        if self.trailer is None or self.trailer.signature_status in (
            SignatureStatus.NOT_CHECKED,
            SignatureStatus.UNVERIFIABLE,
        ):
            return None
        return self.trailer.signature_status is SignatureStatus.VALID


@dataclass
class _Findings:
    listed: list[CrlFinding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, finding: CrlFinding) -> None:
        self.counts[finding.code] += 1
        if self.counts[finding.code] <= MAX_FINDINGS_PER_CODE:
            self.listed.append(finding)

    def result(self) -> tuple[CrlFinding, ...]:
        overflow = [
            CrlFinding(
                f"{code}_more",
                Severity.NOTICE,
                f"{count - MAX_FINDINGS_PER_CODE} more '{code}' findings not listed",
            )
            for code, count in sorted(self.counts.items())
            if count > MAX_FINDINGS_PER_CODE
        ]
        return (*self.listed, *overflow)


class _SerialBloom:
    """A Bloom filter over serials: False means certainly new, True means maybe seen before."""

    def __init__(self, expected_bytes: int) -> None:
        self._bits_count = max(_BLOOM_MIN_BITS, min(_BLOOM_MAX_BITS, 2 * expected_bytes))
        self._bits = bytearray(self._bits_count // 8 + 1)

    def seen_before(self, serial: str) -> bool:
        value = int.from_bytes(hashlib.blake2b(serial.encode(), digest_size=16).digest(), "little")
        first, step = value & 0xFFFFFFFFFFFFFFFF, (value >> 64) | 1
        seen = True
        for index in range(_BLOOM_HASHES):
            bit = (first + index * step) % self._bits_count
            byte, mask = bit >> 3, 1 << (bit & 7)
            if not self._bits[byte] & mask:
                seen = False
                self._bits[byte] |= mask
        return seen


def entry_digest(entry: CrlEntry) -> int:
    """One entry's share of the entry-set digest: what identifies it as revocation evidence."""
    revoked = "" if entry.revoked_at is None else entry.revoked_at.isoformat()
    key = f"{entry.serial_hex}|{revoked}|{entry.reason_code}".encode()
    return int.from_bytes(hashlib.sha256(key).digest(), "big")


def scan_crl(
    path: Path,
    *,
    issuer: ParsedCert | None = None,
    as_of: datetime | None = None,
    on_entry: Callable[[CrlEntry], None] | None = None,
    temp_dir: Path | None = None,
) -> CrlScan:
    """Read and check the CRL at `path` (DER or PEM); `issuer` enables the signature check and
    `as_of` (an observation time) the staleness check. `on_entry` receives each entry as it streams.
    """
    findings = _Findings()
    header: CrlHeader | None = None
    entry_count = 0
    digest = 0
    try:
        issuer_cert = (
            None if issuer is None or issuer.der is None else x509.load_der_x509_certificate(issuer.der)
        )
    except ValueError as exc:
        return CrlScan(path, None, None, 0, None, (), f"issuer certificate not loadable: {exc}")
    try:
        expected_bytes = path.stat().st_size
        bloom = _SerialBloom(expected_bytes)
        maybe_duplicate: set[str] = set()
        with open_crl(path, temp_dir=temp_dir) as reader:
            header = reader.header
            for entry in reader.entries():
                entry_count += 1
                digest = (digest + entry_digest(entry)) % _DIGEST_MODULUS
                if bloom.seen_before(entry.serial_hex):
                    maybe_duplicate.add(entry.serial_hex)
                _entry_findings(entry, header, findings)
                if on_entry is not None:
                    on_entry(entry)
            trailer = reader.finish(issuer_cert)
            name_problems = reader.issuer_name_problems
        if maybe_duplicate:
            for serial, count in _confirm_duplicates(path, maybe_duplicate, temp_dir):
                findings.add(
                    CrlFinding("duplicate_serial", Severity.ERROR, f"listed {count} times", serial_hex=serial)
                )
    except (CrlFormatError, OSError) as exc:
        return CrlScan(path, header, None, entry_count, None, findings.result(), _error_text(exc))
    for problem in name_problems:
        findings.add(CrlFinding("issuer_name_problem", Severity.WARNING, problem))
    _crl_findings(header, trailer, issuer, as_of, findings)
    return CrlScan(path, header, trailer, entry_count, f"{digest:064x}", findings.result(), None)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    return str(exc)


def _confirm_duplicates(path: Path, candidates: set[str], temp_dir: Path | None) -> Iterator[tuple[str, int]]:
    counts: Counter[str] = Counter()
    with open_crl(path, temp_dir=temp_dir) as reader:
        for entry in reader.entries():
            if entry.serial_hex in candidates:
                counts[entry.serial_hex] += 1
    for serial, count in sorted(counts.items()):
        if count > 1:
            yield serial, count


_VALID_REASON_CODES = frozenset(int(code) for code in CRLReason)


def _entry_findings(entry: CrlEntry, header: CrlHeader, findings: _Findings) -> None:
    serial = entry.serial_hex
    for problem in entry.problems:
        findings.add(CrlFinding("entry_malformed", Severity.ERROR, problem, serial_hex=serial))
    for oid in entry.unknown_critical_oids:
        findings.add(
            CrlFinding(
                "unknown_critical_entry_extension", Severity.ERROR, f"critical entry extension {oid}", serial
            )
        )
    if entry.reason_code is not None and entry.reason_code not in _VALID_REASON_CODES:
        findings.add(
            CrlFinding(
                "reason_code_invalid",
                Severity.ERROR,
                f"reasonCode {entry.reason_code} is not in RFC 5280",
                serial,
            )
        )
    if entry.reason_code_critical:
        findings.add(
            CrlFinding("reason_code_critical", Severity.WARNING, "reasonCode is marked critical", serial)
        )
    if entry.revoked_at is not None and entry.revoked_at > header.this_update:
        findings.add(
            CrlFinding(
                "revocation_after_this_update",
                Severity.ERROR,
                f"revocationDate {entry.revoked_at.isoformat()} is after thisUpdate "
                f"{header.this_update.isoformat()}",
                serial,
                entry.revoked_at,
            )
        )


def _crl_findings(
    header: CrlHeader,
    trailer: CrlTrailer,
    issuer: ParsedCert | None,
    as_of: datetime | None,
    findings: _Findings,
) -> None:
    add = findings.add
    if header.version not in (0, 1):
        add(
            CrlFinding(
                "version_invalid", Severity.ERROR, f"version INTEGER {header.version} (only v1/v2 exist)"
            )
        )
    if header.version == 0 and trailer.extension_oids:
        add(CrlFinding("v1_with_extensions", Severity.ERROR, "a v1 CRL carries extensions"))
    if header.next_update is None:
        add(CrlFinding("next_update_missing", Severity.WARNING, "no nextUpdate"))
    elif header.next_update < header.this_update:
        add(
            CrlFinding(
                "next_update_before_this_update",
                Severity.ERROR,
                "nextUpdate is before thisUpdate",
                at=header.next_update,
            )
        )
    elif as_of is not None and as_of > header.next_update:
        add(
            CrlFinding(
                "crl_stale",
                Severity.ERROR,
                f"observed at {as_of.isoformat()}, past nextUpdate by {as_of - header.next_update}",
                at=header.next_update,
            )
        )
    if trailer.crl_number is None:
        add(CrlFinding("crl_number_missing", Severity.WARNING, "no cRLNumber extension"))
    elif trailer.crl_number < 0:
        add(CrlFinding("crl_number_negative", Severity.ERROR, f"cRLNumber {trailer.crl_number}"))
    if trailer.delta_base_crl_number is not None:
        add(
            CrlFinding(
                "delta_crl", Severity.NOTICE, f"delta CRL over base cRLNumber {trailer.delta_base_crl_number}"
            )
        )
    for oid in trailer.unknown_critical_oids:
        add(CrlFinding("unknown_critical_crl_extension", Severity.ERROR, f"critical CRL extension {oid}"))
    for problem in trailer.problems:
        add(CrlFinding("crl_extension_malformed", Severity.ERROR, problem))
    if trailer.idp is not None:
        for uri in trailer.idp.full_name_uris:
            parts = urlsplit(uri)
            if not parts.scheme or not parts.netloc:
                add(
                    CrlFinding("idp_uri_invalid", Severity.ERROR, f"IDP fullName URI {uri!r} is not absolute")
                )
        if trailer.idp.only_ca_certs and trailer.idp.only_user_certs:
            add(CrlFinding("idp_scope_contradictory", Severity.ERROR, "IDP says only CA and only user certs"))
    if trailer.trailing_bytes:
        add(CrlFinding("trailing_data", Severity.WARNING, "bytes follow the CertificateList"))
    if trailer.signature_status is SignatureStatus.INVALID:
        add(CrlFinding("signature_invalid", Severity.ERROR, trailer.signature_detail or "invalid signature"))
    elif trailer.signature_status is SignatureStatus.UNVERIFIABLE:
        add(CrlFinding("signature_unverifiable", Severity.ERROR, trailer.signature_detail or "unverifiable"))
    if issuer is not None:
        if issuer.subject_der is not None and issuer.subject_der != header.issuer_der:
            add(CrlFinding("issuer_name_mismatch", Severity.ERROR, "CRL issuer is not the issuer's subject"))
        if trailer.aki_hex is not None and issuer.ski_hex is not None and trailer.aki_hex != issuer.ski_hex:
            add(CrlFinding("aki_mismatch", Severity.ERROR, "CRL AKI is not the issuer's SKI"))
