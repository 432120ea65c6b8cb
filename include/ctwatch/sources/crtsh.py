"""crt.sh: identity searches (JSON), certificate download (`?d=`), and the CSV of the query for
crt.sh's public PostgreSQL (sql/crtsh_ocsp_signing_ca.sql).

Identity searches are capped (10,000 rows). A capped answer is never taken as complete: the
pattern is split at its first `%` wildcard into the empty expansion and one sub-pattern per
leading character (`%.example.com` -> `.example.com`, `a%.example.com`, ...), recursively; what is
still capped when the query budget runs out is reported in `truncated`, never dropped silently.
`min_not_before` narrows searches to recent issuance (incremental runs), `issuer_ca_id` to one
issuing CA (`identity=%&iCAID=<id>`: everything it issued). JSON is not served for
`id=` / `sha256=` lookups: certificates come from `?d=`.

For history before ctwatch watched, crt.sh is the certificate source of record: its CRL
revocation dates and last check times become `crtsh` observations (crt.sh keeps no first-seen
time; its LAST_SEEN_CHECK_DATE is a bound: crt.sh saw the entry by then).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from typing import Any

from ctwatch.evidence.revocation import (
    RecordError,
    Sighting,
    SightingStatus,
    Snapshot,
    SourceName,
    StampKind,
    reason_name,
    serial_hex_from_signed,
)
from ctwatch.sources.http import BodyError, HttpClient
from ctwatch.timeutil import parse_utc

OBSERVER = "crtsh"
RESULT_LIMIT = 10_000
# What a DNS identity may start with; '_' is a LIKE wildcard itself and '%' the one being split.
SPLIT_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789*-."


@dataclass(frozen=True, slots=True)
class CrtshRow:
    """One JSON row of an identity search (serial in ParsedCert.serial_hex form)."""

    crtsh_id: int
    issuer_ca_id: int | None
    issuer_name: str | None
    common_name: str | None
    name_value: str
    entry_timestamp: datetime | None  # NULL when crt.sh never saw it in CT
    not_before: datetime
    not_after: datetime
    serial_hex: str


@dataclass(slots=True)
class SearchResult:
    rows: dict[int, CrtshRow] = field(default_factory=dict)  # by crt.sh id (splits overlap)
    queries: int = 0
    truncated: list[str] = field(default_factory=list)  # patterns still capped: incomplete results
    errors: list[RecordError] = field(default_factory=list)


def _decode_rows(body: bytes) -> list[object]:
    try:
        rows = json.loads(body) if body.strip() else []
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays nested too deep
        raise BodyError(f"not JSON: {exc}") from exc
    if not isinstance(rows, list):
        raise BodyError("not a JSON array")
    return rows


def _row(raw: object) -> CrtshRow:
    if not isinstance(raw, dict):
        raise TypeError(f"a row is a JSON object, not {type(raw).__name__}")
    entry = raw.get("entry_timestamp")
    return CrtshRow(
        crtsh_id=int(raw["id"]),
        issuer_ca_id=int(raw["issuer_ca_id"]) if raw.get("issuer_ca_id") is not None else None,
        issuer_name=raw.get("issuer_name"),
        common_name=raw.get("common_name"),
        name_value=str(raw.get("name_value", "")),
        entry_timestamp=parse_utc(entry) if entry else None,
        not_before=parse_utc(raw["not_before"]),
        not_after=parse_utc(raw["not_after"]),
        serial_hex=serial_hex_from_signed(bytes.fromhex(_even(raw["serial_number"]))),
    )


def _even(hex_text: str) -> str:
    return hex_text if len(hex_text) % 2 == 0 else "0" + hex_text


def split_pattern(pattern: str) -> list[str] | None:
    """The sub-patterns covering `pattern`'s matches, or None when it has no `%` to split."""
    position = pattern.find("%")
    if position < 0:
        return None
    head, tail = pattern[:position], pattern[position + 1 :]
    empty_expansion = [head + tail] if head + tail else []  # an empty identity is no search
    return empty_expansion + [head + character + "%" + tail for character in SPLIT_CHARACTERS]


def search_identity(
    client: HttpClient,
    base_url: str,
    identity: str,
    *,
    exclude_expired: bool = True,
    deduplicate: bool = True,
    min_not_before: date | None = None,
    issuer_ca_id: int | None = None,
    result_limit: int = RESULT_LIMIT,
    max_queries: int = 200,
) -> SearchResult:
    """All rows of an identity search, splitting capped patterns (see module docstring);
    `issuer_ca_id` narrows it to what one CA issued (crt.sh's `iCAID`, the CA id crt.sh shows on the
    CA certificate's page).

    Request failures (FetchError) propagate: a partial search is not a result.
    """
    result = SearchResult()
    pending = [identity]
    while pending:
        pattern = pending.pop(0)
        params: dict[str, str | int] = {"identity": pattern, "output": "json"}
        if exclude_expired:
            params["exclude"] = "expired"
        if deduplicate:
            params["deduplicate"] = "Y"
        if min_not_before is not None:
            params["minNotBefore"] = min_not_before.isoformat()
        if issuer_ca_id is not None:
            params["iCAID"] = issuer_ca_id
        raw_rows = client.get(base_url, _decode_rows, params=params)
        result.queries += 1
        for position, raw in enumerate(raw_rows):
            try:
                row = _row(raw)
            except (KeyError, TypeError, ValueError, OverflowError) as exc:  # int(Infinity): OverflowError
                result.errors.append(RecordError(f"{pattern} #{position}", f"{type(exc).__name__}: {exc}"))
                continue
            result.rows[row.crtsh_id] = row
        if len(raw_rows) < result_limit:
            continue
        parts = split_pattern(pattern)
        if parts is None or result.queries + len(pending) + len(parts) > max_queries:
            result.truncated.append(pattern)
        else:
            pending.extend(parts)
    return result


def download(client: HttpClient, base_url: str, key: str) -> bytes | None:
    """`?d=<crt.sh id or SHA-256>`: the certificate's PEM, or None when crt.sh does not know it."""
    body = client.get(base_url, lambda raw: raw, params={"d": key})
    return body if body.strip() else None


def ocsp_signing_ca_query() -> str:
    """The SQL for crt.sh's public PostgreSQL (runs on crt.sh only)."""
    return resources.files("ctwatch.sources").joinpath("sql", "crtsh_ocsp_signing_ca.sql").read_text("utf-8")


def parse_ocsp_signing_ca_csv(body: bytes, *, location: str, observed_at: datetime) -> Snapshot:
    """The query's CSV output as a crt.sh snapshot stamped `observed_at` (when the query ran).

    A row with a revocation date is a 'revoked' sighting (claimed date, reason, crt.sh's last check
    that still listed it); one without is 'not_revoked' as of the CRL's last check. A body that is
    not UTF-8 raises UnicodeDecodeError (`ctwatch crtsh import-csv` refuses such a file).
    """
    sightings: list[Sighting] = []
    errors: list[RecordError] = []
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    try:
        missing = [
            c
            for c in ("sha256", "revocation_date", "last_seen_check_date")
            if c not in (reader.fieldnames or [])
        ]
        if missing:
            errors.append(RecordError("header", f"columns missing: {missing}"))
        else:
            for row_number, row in enumerate(reader, start=2):
                try:
                    sightings.append(_csv_sighting(row))
                except (KeyError, TypeError, ValueError) as exc:
                    errors.append(RecordError(f"row {row_number}", f"{type(exc).__name__}: {exc}"))
    except csv.Error as exc:  # a field larger than the csv module's limit (128 kB)
        errors.append(RecordError("report", f"not the query's CSV: {exc}"))
    return Snapshot.of_body(
        body, SourceName.CRTSH, OBSERVER, observed_at=observed_at, stamp_kind=StampKind.ARCHIVE,
        location=location, lists_all_revoked=False, sightings=sightings, errors=errors,
    )  # fmt: skip


def _optional(row: dict[str, str], name: str, convert: Callable[[str], Any]) -> Any:
    value = (row.get(name) or "").strip()
    return convert(value) if value else None


def _csv_sighting(row: dict[str, str]) -> Sighting:
    der_sha256 = (row["sha256"] or "").strip().lower()  # None: the row is shorter than the header
    if len(der_sha256) != 64:
        raise ValueError(f"sha256 {der_sha256!r} is not a SHA-256")
    revoked_at = _optional(row, "revocation_date", parse_utc)
    last_seen = _optional(row, "last_seen_check_date", parse_utc)
    crl_checked = _optional(row, "crl_last_checked", parse_utc)
    return Sighting(
        status=SightingStatus.REVOKED if revoked_at else SightingStatus.NOT_REVOKED,
        der_sha256=der_sha256,
        revoked_at_claimed=revoked_at,
        reason=reason_name(_optional(row, "reason_code", int)),
        third_party_seen_at=last_seen if revoked_at else None,
        record_ref=(row.get("crtsh_id") or "").strip() or None,
        detail={
            key: value
            for key, value in {
                "subject": row.get("subject"),
                "crl_last_checked": crl_checked.isoformat() if crl_checked else None,
                "issuer_ca_id": row.get("issuer_ca_id"),
            }.items()
            if value
        },
    )
