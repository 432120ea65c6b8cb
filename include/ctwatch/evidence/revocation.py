"""What every revocation source produces: a snapshot (one fetch or import, stamped) of sightings,
and the RFC 5280 CRLReason vocabulary they speak."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Final


class CRLReason(IntEnum):
    """RFC 5280 §5.3.1 CRLReason codes (7 is unused)."""

    UNSPECIFIED = 0
    KEY_COMPROMISE = 1
    CA_COMPROMISE = 2
    AFFILIATION_CHANGED = 3
    SUPERSEDED = 4
    CESSATION_OF_OPERATION = 5
    CERTIFICATE_HOLD = 6
    REMOVE_FROM_CRL = 8
    PRIVILEGE_WITHDRAWN = 9
    AA_COMPROMISE = 10

    @property
    def rfc_name(self) -> str:
        """The ASN.1 name, e.g. "keyCompromise"."""
        return _RFC_NAMES[self]

    @classmethod
    def from_rfc_name(cls, name: str) -> CRLReason:
        """The code for an ASN.1 name such as "cACompromise"; KeyError when unknown."""
        return _BY_RFC_NAME[name]


_RFC_NAMES: Final = {
    CRLReason.UNSPECIFIED: "unspecified",
    CRLReason.KEY_COMPROMISE: "keyCompromise",
    CRLReason.CA_COMPROMISE: "cACompromise",
    CRLReason.AFFILIATION_CHANGED: "affiliationChanged",
    CRLReason.SUPERSEDED: "superseded",
    CRLReason.CESSATION_OF_OPERATION: "cessationOfOperation",
    CRLReason.CERTIFICATE_HOLD: "certificateHold",
    CRLReason.REMOVE_FROM_CRL: "removeFromCRL",
    CRLReason.PRIVILEGE_WITHDRAWN: "privilegeWithdrawn",
    CRLReason.AA_COMPROMISE: "aACompromise",
}
_BY_RFC_NAME: Final = {name: code for code, name in _RFC_NAMES.items()}


class SourceName(StrEnum):
    """The `source` vocabulary of revocation_observations (the CRL archive writes 'crl' itself)."""

    OCSP = "ocsp"
    CCADB = "ccadb"
    MOZILLA_REVOKED = "mozilla_revoked"
    ONECRL = "onecrl"
    CRLSET = "crlset"
    CRTSH = "crtsh"


class StampKind(StrEnum):
    """What `observed_at` of a snapshot is."""

    FETCH = "fetch"  # the real time of a live fetch
    AS_OF = "as_of"  # the as-of time a simulator (or archive service) answered for
    ARCHIVE = "archive"  # the date an archived snapshot carries


class SightingStatus(StrEnum):
    REVOKED = "revoked"
    GOOD = "good"  # OCSP
    UNKNOWN = "unknown"  # OCSP
    NOT_REVOKED = "not_revoked"  # an explicit "not revoked" statement (CCADB status, crt.sh without entry)


@dataclass(frozen=True, slots=True)
class Sighting:
    """What one snapshot says about one target: a certificate (der_sha256), issuer + serial, or a
    subject key. Hex is lower case; serials in the form of ParsedCert.serial_hex."""

    status: SightingStatus
    der_sha256: str | None = None
    issuer_spki_sha256: str | None = None
    issuer_name_der: bytes | None = None
    serial_hex: str | None = None
    subject_spki_sha256: str | None = None
    subject_name_der: bytes | None = None
    revoked_at_claimed: datetime | None = None
    reason: str | None = None
    source_action_at: datetime | None = None
    source_modified_at: datetime | None = None
    third_party_seen_at: datetime | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    record_ref: str | None = None
    detail: Mapping[str, object] = field(default_factory=dict)

    def has_target(self) -> bool:
        return (
            self.der_sha256 is not None
            or (self.serial_hex is not None and (self.issuer_spki_sha256 or self.issuer_name_der) is not None)
            or self.subject_spki_sha256 is not None
        )

    def detail_json(self) -> str | None:
        return json.dumps(self.detail, sort_keys=True, default=str) if self.detail else None


@dataclass(frozen=True, slots=True)
class RecordError:
    """A record of a snapshot that could not be used, and why."""

    record_ref: str
    error: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One fetch or import of a source. `lists_all_revoked`: absence from it means "not listed"."""

    source: SourceName
    observer: str
    observed_at: datetime
    stamp_kind: StampKind
    location: str
    content_sha256: str
    lists_all_revoked: bool
    sightings: tuple[Sighting, ...]
    errors: tuple[RecordError, ...] = ()
    raw_header: str | None = None

    @classmethod
    def of_body(
        cls,
        body: bytes,
        source: SourceName,
        observer: str,
        *,
        observed_at: datetime,
        stamp_kind: StampKind,
        location: str,
        lists_all_revoked: bool,
        sightings: Iterable[Sighting],
        errors: Iterable[RecordError] = (),
        raw_header: str | None = None,
    ) -> Snapshot:
        """The snapshot of one fetched or imported body; its SHA-256 is the evidence hash."""
        return cls(
            source, observer, observed_at, stamp_kind, location, sha256_hex(body), lists_all_revoked,
            tuple(sightings), tuple(errors), raw_header,
        )  # fmt: skip


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def observation_stamp(
    as_of: datetime | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> tuple[datetime, StampKind]:
    """The stamp of an answer: the as-of time the request carried (simulator), else the real fetch
    time. Never a DAG's logical date for a live fetch: callers pass `as_of` only to the simulator."""
    if as_of is not None:
        if as_of.tzinfo is None:  # evidence imports nothing of ctwatch, so not timeutil.require_aware
            raise ValueError("as_of must be timezone-aware")
        return as_of.astimezone(UTC), StampKind.AS_OF
    return now().astimezone(UTC), StampKind.FETCH


def serial_hex_from_signed(content: bytes) -> str:
    """ParsedCert.serial_hex of a DER INTEGER's content bytes (OneCRL `serialNumber`, OCSP)."""
    value = int.from_bytes(content, "big", signed=True)
    if value > 0:
        return format(value, "x")
    if value == 0:
        return "0"
    # negative serials keep their two's-complement bytes, as ctwatch.x509 writes them
    return value.to_bytes(((~value).bit_length() + 8) // 8, "big", signed=True).hex()


def serial_hex_from_unsigned(magnitude: bytes) -> str:
    """ParsedCert.serial_hex of unsigned serial bytes (CRLSet strips the sign byte, like Chrome)."""
    return format(int.from_bytes(magnitude, "big"), "x")


def reason_name(code: int | None) -> str | None:
    """RFC 5280 CRLReason name for a code; an unknown code is kept as 'code:<n>'."""
    if code is None:
        return None
    try:
        return CRLReason(code).rfc_name
    except ValueError:
        return f"code:{code}"
