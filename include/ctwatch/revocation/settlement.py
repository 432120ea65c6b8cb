"""What settles a revocation, per certificate: the CA's own channels, the CA's reports, root-program blocks.

Only the CA's own channels settle a revocation: a CRL that covers the certificate (the issuer's
full CRL, or the partition its CRL distribution point names; signature verified) and OCSP answers
signed by the issuer or its authorised responder, with a reason other than certificateHold
(suspension is not revocation, and the BRs forbid it for these certificates). crt.sh's record of
the CA's CRL is the same channel seen by a third party.

A report (CCADB's "Revoked" status, Mozilla's revoked-intermediates report) is the CA's claim, not
a revocation: ctwatch observing a covering channel without the entry after the claimed time plus the
channel's publication allowance, while the certificate was valid, contradicts it. A root-program
block (OneCRL, CRLSet) is what a root program does when a CA did not revoke: it never settles.

`load_evidence` reads what was known by an as-of; `contradiction` is the rule both the evaluator and
the disagreement finder apply.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import duckdb

from ctwatch.evidence.revocation import reason_name
from ctwatch.policy.windows import SUBORDINATE_CA_PUBLICATION
from ctwatch.timeutil import iso_z, require_aware, utc_or_none
from ctwatch.warehouse.sqlfiles import query_dicts

CERTIFICATE_HOLD: Final = "certificateHold"
CTWATCH: Final = "ctwatch"
REPORT_SOURCES: Final = frozenset({"ccadb", "mozilla_revoked"})
BLOCK_SOURCES: Final = frozenset({"onecrl", "crlset"})
_SOURCE_WORDS: Final = {
    "ccadb": "CCADB revocation status",
    "mozilla_revoked": "Mozilla's revoked-intermediates report",
    "onecrl": "OneCRL",
    "crlset": "Chrome's CRLSet",
}


@dataclass(frozen=True, slots=True)
class Listing:
    """The CA's own channel listing the certificate as revoked (or on hold)."""

    channel: str  # 'crl' | 'ocsp'
    observer: str  # 'ctwatch', or 'crtsh' (crt.sh's record of the CA's CRL)
    revoked_at_claimed: datetime | None
    reason: str | None  # RFC 5280 CRLReason name
    first_observed_at: datetime
    evidence: str

    @property
    def on_hold(self) -> bool:
        return self.reason == CERTIFICATE_HOLD

    def describe(self) -> str:
        claimed = iso_z(self.revoked_at_claimed) if self.revoked_at_claimed else "no time"
        who = "ctwatch" if self.observer == CTWATCH else f"{self.observer} (third party)"
        what = "on hold" if self.on_hold else "revoked"
        return (
            f"{self.channel.upper()} lists it {what} ({self.reason or 'no reason code'}, claimed {claimed}),"
            f" first seen by {who} {iso_z(self.first_observed_at)}: {self.evidence}"
        )


@dataclass(frozen=True, slots=True)
class Absence:
    """ctwatch saw the CA's covering channel without a revocation entry for the certificate: one CRL
    version (its fetches), or the OCSP answers saying otherwise."""

    channel: str  # 'crl' | 'ocsp'
    first_observed_at: datetime
    last_observed_at: datetime  # the latest such observation (before the first listing, while valid)
    location: str  # the CRL or OCSP URL
    content_sha256: str  # of the CRL version / the last OCSP response
    this_update: datetime | None = None  # of the CRL version
    note: str = ""  # e.g. listed on hold only

    @property
    def evidence(self) -> str:
        this_update = f" thisUpdate {iso_z(self.this_update)}" if self.this_update else ""
        what = "response" if self.channel == "ocsp" else "version"
        note = f" ({self.note})" if self.note else ""
        return f"{self.location}{this_update} {what} sha256 {self.content_sha256}{note}"

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.channel,
            "observer": CTWATCH,
            "status": "not listed",
            "first_observed_at": self.first_observed_at.isoformat(),
            "observed_at": self.last_observed_at.isoformat(),
            "evidence_ref": self.location,
            "evidence_sha256": self.content_sha256,
            "this_update": self.this_update.isoformat() if self.this_update else None,
            "note": self.note or None,
        }

    def describe(self) -> str:
        span = (
            iso_z(self.last_observed_at)
            if self.first_observed_at == self.last_observed_at
            else f"{iso_z(self.first_observed_at)} .. {iso_z(self.last_observed_at)}"
        )
        return f"{self.channel.upper()} without it, seen by ctwatch {span}: {self.evidence}"


@dataclass(frozen=True, slots=True)
class Claim:
    """A report saying the CA revoked it: the CA's claim, not a revocation."""

    source: str  # 'ccadb' | 'mozilla_revoked'
    revoked_at_claimed: datetime | None  # None: a status without a date (CCADB)
    first_observed_at: datetime  # when the report first said so
    evidence: str

    @property
    def claimed_by(self) -> datetime:
        """The moment the claim says it was revoked by: its date, else when the report first said so."""
        return self.revoked_at_claimed or self.first_observed_at

    def describe(self) -> str:
        dated = (
            f"revocation date {iso_z(self.revoked_at_claimed)}"
            if self.revoked_at_claimed
            else "no revocation date"
        )
        return (
            f"{_SOURCE_WORDS.get(self.source, self.source)} says revoked ({dated}),"
            f" first seen {iso_z(self.first_observed_at)}: {self.evidence}"
        )


@dataclass(frozen=True, slots=True)
class Block:
    """A root program's block: an action beside the verdict, never a revocation."""

    source: str  # 'onecrl' | 'crlset'
    first_observed_at: datetime
    evidence: str

    def describe(self) -> str:
        source = _SOURCE_WORDS.get(self.source, self.source)
        return f"{source} blocks it since {iso_z(self.first_observed_at)}: {self.evidence}"


@dataclass(frozen=True, slots=True)
class CertificateEvidence:
    """Everything known about one certificate's revocation by an as-of."""

    listings: tuple[Listing, ...] = ()  # revoked (not on hold), earliest observation first
    holds: tuple[Listing, ...] = ()
    absences: tuple[Absence, ...] = ()  # per CRL version / OCSP responder, earliest first
    claims: tuple[Claim, ...] = ()
    blocks: tuple[Block, ...] = ()
    crl_versions_listing: int = 0  # covering CRL versions fetched that list it as revoked

    @property
    def first_listing(self) -> Listing | None:
        return min(self.listings, key=lambda x: (x.first_observed_at, x.channel), default=None)

    @property
    def last_absence(self) -> Absence | None:
        """ctwatch's latest observation of a covering channel without the entry, before the first
        revocation listing and while the certificate was valid."""
        return max(self.absences, key=lambda a: (a.last_observed_at, a.channel), default=None)


@dataclass(slots=True)
class _Builder:
    listings: list[Listing] = field(default_factory=list)
    holds: list[Listing] = field(default_factory=list)
    absences: list[Absence] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    crl_versions_listing: int = 0

    def add_listing(self, listing: Listing) -> None:
        (self.holds if listing.on_hold else self.listings).append(listing)

    def build(self) -> CertificateEvidence:
        def by_time(items: Iterable[Any]) -> tuple[Any, ...]:
            return tuple(sorted(items, key=lambda x: (x.first_observed_at, x.evidence)))

        return CertificateEvidence(
            listings=by_time(self.listings),
            holds=by_time(self.holds),
            absences=by_time(self.absences),
            claims=by_time(self.claims),
            blocks=by_time(self.blocks),
            crl_versions_listing=self.crl_versions_listing,
        )


def _utc(value: datetime) -> datetime:
    moment = utc_or_none(value)
    assert moment is not None  # aggregates over at least one fetch
    return moment


def _crl_absence(row: dict[str, Any], last_absent: datetime, note: str = "") -> Absence:
    return Absence(
        "crl",
        min(_utc(row["first_fetch_at"]), last_absent),
        last_absent,
        str(row["first_url"]),
        str(row["crl_sha256"]),
        utc_or_none(row["this_update"]),
        note,
    )


def _crl_version_text(row: dict[str, Any]) -> str:
    this_update = utc_or_none(row["this_update"])
    when = iso_z(this_update) if this_update else "?"
    return f"{row['first_url']} thisUpdate {when} sha256 {row['crl_sha256']}"


def _add_crl(builders: dict[str, _Builder], con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    runs: dict[tuple[str, datetime | None, int | None], list[dict[str, Any]]] = defaultdict(list)
    for row in query_dicts(con, "evidence/crl", params):
        builder = builders[row["der_sha256"]]
        claimed = utc_or_none(row["revoked_at_claimed"])
        if claimed is not None:
            runs[(row["der_sha256"], claimed, row["reason_code"])].append(row)
            continue
        last_absent = utc_or_none(row["last_absent_fetch_at"])
        if last_absent is not None:
            builder.absences.append(_crl_absence(row, last_absent))
    for (der, claimed, reason_code), rows in runs.items():
        first_row = min(rows, key=lambda r: r["first_fetch_at"])
        listing = Listing(
            channel="crl",
            observer=CTWATCH,
            revoked_at_claimed=claimed,
            reason=reason_name(reason_code),
            first_observed_at=_utc(first_row["first_fetch_at"]),
            evidence=_crl_version_text(first_row),
        )
        builders[der].add_listing(listing)
        if not listing.on_hold:
            builders[der].crl_versions_listing += len(rows)
        else:
            # a version listing it on hold is one without a revocation entry
            for row in rows:
                last_absent = utc_or_none(row["last_absent_fetch_at"])
                if last_absent is not None:
                    builders[der].absences.append(_crl_absence(row, last_absent, note="listed on hold only"))


def _add_ocsp(builders: dict[str, _Builder], con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    for row in query_dicts(con, "evidence/ocsp", params):
        builder = builders[row["der_sha256"]]
        revoked_at = utc_or_none(row["revoked_first_at"])
        if revoked_at is not None:
            builder.add_listing(
                Listing(
                    "ocsp", CTWATCH, utc_or_none(row["revoked_at_claimed"]), row["reason"], revoked_at,
                    f"{row['revoked_location']} response sha256 {row['revoked_sha256']}",
                )
            )  # fmt: skip
        hold_at = utc_or_none(row["hold_first_at"])
        if hold_at is not None:
            builder.add_listing(
                Listing(
                    "ocsp", CTWATCH, utc_or_none(row["hold_claimed"]), CERTIFICATE_HOLD, hold_at,
                    str(row["hold_location"]),
                )
            )  # fmt: skip
        last_absent = utc_or_none(row["last_absent_at"])
        if last_absent is not None:
            builder.absences.append(
                Absence(
                    "ocsp", last_absent, last_absent, str(row["last_absent_location"]),
                    str(row["last_absent_sha256"]), note=f"{row['good_answers']} 'good' answer(s) in all",
                )
            )  # fmt: skip


def _add_statements(
    builders: dict[str, _Builder], con: duckdb.DuckDBPyConnection, params: dict[str, Any]
) -> None:
    for row in query_dicts(con, "evidence/statements", params):
        builder = builders[row["der_sha256"]]
        first = utc_or_none(row["first_observed_at"])
        assert first is not None  # NOT NULL column
        where = row["evidence_ref"] or "?"
        digest = f" sha256 {row['evidence_sha256']}" if row["evidence_sha256"] else ""
        evidence = f"{where}{digest}"
        source = row["source"]
        claimed = utc_or_none(row["revoked_at_claimed"])
        if source == "crtsh":
            builder.add_listing(Listing("crl", row["observer"], claimed, row["reason"], first, evidence))
        elif source in REPORT_SOURCES:
            builder.claims.append(Claim(source, claimed, first, evidence))
        elif source in BLOCK_SOURCES:
            builder.blocks.append(Block(source, first, evidence))


def load_evidence(
    con: duckdb.DuckDBPyConnection, der_sha256: Collection[str], as_of: datetime
) -> dict[str, CertificateEvidence]:
    """The revocation evidence of these certificates known by `as_of` (every certificate gets an
    entry, empty when nothing is known)."""
    require_aware(as_of, "as_of")
    wanted = sorted(set(der_sha256))
    builders = {der: _Builder() for der in wanted}
    params = {"der_sha256": wanted, "as_of": as_of}
    _add_crl(builders, con, params)
    _add_ocsp(builders, con, params)
    _add_statements(builders, con, params)
    return {der: builder.build() for der, builder in builders.items()}


def contradiction(claim: Claim, last_absence: Absence | None, allowance: timedelta) -> Absence | None:
    """The observation contradicting a report's claim, or None.

    A claim "revoked by T" is contradicted when ctwatch saw a covering CA channel without the entry
    after T plus the channel's publication allowance (the absence is already limited to the
    certificate's validity and to the time before any listing).
    """
    if last_absence is not None and last_absence.last_observed_at > claim.claimed_by + allowance:
        return last_absence
    return None


def publication_allowance(is_ca: bool) -> timedelta:
    """How long after revoking a CA may publish: 24 hours for a CA certificate (BR 4.9.7), none for
    a subscriber certificate (BR 4.9.5 counts its window up to the published revocation)."""
    return SUBORDINATE_CA_PUBLICATION if is_ca else timedelta(0)
