"""The mutable record both parsers fill in, field by field, before it is frozen."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from ctwatch.x509.classify import classify
from ctwatch.x509.model import CertError, ParsedCert

T = TypeVar("T")

_MAX_REASON_CHARS = 300  # pyasn1 errors quote whole schemas


def describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text if len(text) <= _MAX_REASON_CHARS else text[:_MAX_REASON_CHARS] + "..."


@dataclass(slots=True)
class Draft:
    der: bytes
    parser: str
    warnings: list[str] = field(default_factory=list)
    subject_rfc4514: str | None = None
    subject_der: bytes | None = None
    issuer_rfc4514: str | None = None
    issuer_der: bytes | None = None
    serial_hex: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    is_ca: bool = False
    path_length: int | None = None
    key_usage: frozenset[str] = frozenset()
    key_usage_present: bool = False
    eku_oids: tuple[str, ...] = ()
    eku_absent: bool = True
    ocsp_nocheck: bool = False
    name_constraints: bool = False
    ski_hex: str | None = None
    aki_hex: str | None = None
    spki_sha256: str | None = None
    crl_urls: tuple[str, ...] = ()
    ocsp_urls: tuple[str, ...] = ()
    ca_issuers_urls: tuple[str, ...] = ()
    policy_oids: tuple[str, ...] = ()
    precert_poison: bool = False
    san_dns_names: tuple[str, ...] = ()
    san_ip_addresses: tuple[str, ...] = ()
    self_signed: bool | None = False
    x509_version: int | None = None
    basic_constraints_present: bool = False  # classification only: absent differs from cA=FALSE

    @property
    def self_issued(self) -> bool:
        return self.subject_der is not None and self.subject_der == self.issuer_der

    def attempt(self, what: str, action: Callable[[], T]) -> T | None:
        """Run one field's extraction; a failure becomes a warning and the field stays empty."""
        try:
            return action()
        except Exception as exc:  # any decoder failure is data, not a crash
            self.warnings.append(f"{what}: {describe(exc)}")
            return None

    def serial_from_int(self, serial: int) -> str:
        """Hex of the serial; a non-positive serial (RFC 5280 forbids it) is kept and flagged.

        A negative serial is written as its DER two's-complement content bytes, the form
        crt.sh and CRL entries key on, so it never collides with a positive serial.
        """
        if serial > 0:
            return format(serial, "x")
        self.warnings.append(f"serial number is not positive ({serial}), RFC 5280 4.1.2.2")
        if serial == 0:
            return "0"
        return serial.to_bytes(((~serial).bit_length() + 8) // 8, "big", signed=True).hex()

    def finish(self) -> ParsedCert:
        self_issued = self.self_issued
        return ParsedCert(
            der=self.der,
            der_sha256=hashlib.sha256(self.der).hexdigest(),
            subject_rfc4514=self.subject_rfc4514,
            subject_der=self.subject_der,
            issuer_rfc4514=self.issuer_rfc4514,
            issuer_der=self.issuer_der,
            serial_hex=self.serial_hex,
            not_before=self.not_before,
            not_after=self.not_after,
            is_ca=self.is_ca,
            path_length=self.path_length,
            key_usage=self.key_usage,
            key_usage_present=self.key_usage_present,
            eku_oids=self.eku_oids,
            eku_absent=self.eku_absent,
            ocsp_nocheck=self.ocsp_nocheck,
            name_constraints=self.name_constraints,
            ski_hex=self.ski_hex,
            aki_hex=self.aki_hex,
            spki_sha256=self.spki_sha256,
            crl_urls=self.crl_urls,
            ocsp_urls=self.ocsp_urls,
            ca_issuers_urls=self.ca_issuers_urls,
            policy_oids=self.policy_oids,
            precert_poison=self.precert_poison,
            self_issued=self_issued,
            self_signed=self.self_signed if self_issued else False,
            kind=classify(
                is_ca=self.is_ca,
                self_issued=self_issued,
                self_signed=self.self_signed,
                ski_hex=self.ski_hex,
                aki_hex=self.aki_hex,
                eku_oids=self.eku_oids,
                eku_absent=self.eku_absent,
                name_constraints=self.name_constraints,
                has_tls_san=bool(self.san_dns_names or self.san_ip_addresses),
                basic_constraints_present=self.basic_constraints_present,
            ),
            parser=self.parser,
            warnings=tuple(self.warnings),
            san_dns_names=self.san_dns_names,
            san_ip_addresses=self.san_ip_addresses,
            x509_version=self.x509_version,
        )


def cert_error(data: bytes, reason: str) -> CertError:
    return CertError(error=reason, input_sha256=hashlib.sha256(data).hexdigest(), input_length=len(data))
