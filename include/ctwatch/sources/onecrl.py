"""Mozilla OneCRL: the remote-settings records, parsed into sightings matched by issuer + serial or
by subject + key.

A record says Mozilla blocked a certificate; `details.created` and `last_modified` are when Mozilla
acted, not when the CA revoked, so they are kept as the source's action time (`source_action_at`,
`source_modified_at`) and never as `revoked_at_claimed`.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from ctwatch.evidence.revocation import (
    RecordError,
    Sighting,
    SightingStatus,
    Snapshot,
    SourceName,
    StampKind,
    serial_hex_from_signed,
)
from ctwatch.sources.http import BodyError, HttpClient
from ctwatch.timeutil import parse_utc

OBSERVER = "onecrl"


def parse_records(body: bytes, *, location: str, observed_at: datetime, stamp_kind: StampKind) -> Snapshot:
    """A OneCRL answer (`{"data": [record, ...]}`) as a snapshot; bad records become RecordErrors."""
    sightings: list[Sighting] = []
    errors: list[RecordError] = []
    try:
        records = json.loads(body)["data"]
        if not isinstance(records, list):
            raise TypeError("'data' is not a list")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: nested too deep
        errors.append(RecordError("body", f"not a OneCRL records answer: {exc}"))
        records = []
    for position, record in enumerate(records):
        ref = record.get("id", f"#{position}") if isinstance(record, dict) else f"#{position}"
        try:
            sighting = _record_sighting(record)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            errors.append(RecordError(str(ref), f"{type(exc).__name__}: {exc}"))
            continue
        if sighting is not None:
            sightings.append(sighting)
    return Snapshot.of_body(
        body, SourceName.ONECRL, OBSERVER, observed_at=observed_at, stamp_kind=stamp_kind,
        location=location, lists_all_revoked=True, sightings=sightings, errors=errors,
    )  # fmt: skip


def fetch_records(client: HttpClient, url: str, *, observed_at: datetime, stamp_kind: StampKind) -> Snapshot:
    """GET the records collection and parse it (FetchError when the service does not answer)."""
    body = client.get(url, _require_json)
    return parse_records(body, location=url, observed_at=observed_at, stamp_kind=stamp_kind)


def _require_json(body: bytes) -> bytes:
    try:
        json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BodyError(f"not JSON: {exc}") from exc
    return body


def _b64(text: str) -> bytes:
    # OneCRL writes issuerName often without padding
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _modified_at(last_modified: int) -> datetime:
    try:
        return datetime.fromtimestamp(last_modified / 1000, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"last_modified {last_modified} is not a time in milliseconds") from exc


def _record_sighting(record: object) -> Sighting | None:
    if not isinstance(record, dict):
        raise TypeError(f"a record is a JSON object, not {type(record).__name__}")
    if record.get("enabled") is False:
        return None  # a disabled record blocks nothing
    details = record.get("details") or {}
    if not isinstance(details, dict):
        raise TypeError("details is not an object")
    created = details.get("created")
    last_modified = record.get("last_modified")
    common = {
        "status": SightingStatus.REVOKED,
        "source_action_at": parse_utc(created) if isinstance(created, str) and created else None,
        "source_modified_at": _modified_at(last_modified) if isinstance(last_modified, int) else None,
        "record_ref": str(record["id"]),
        "detail": {k: details[k] for k in ("bug", "who", "why", "name") if details.get(k)},
    }
    if "issuerName" in record and "serialNumber" in record:
        return Sighting(
            issuer_name_der=_b64(str(record["issuerName"])),
            serial_hex=serial_hex_from_signed(_b64(str(record["serialNumber"]))),
            **common,  # type: ignore[arg-type]
        )
    if "subject" in record and "pubKeyHash" in record:
        key_hash = _b64(str(record["pubKeyHash"]))
        if len(key_hash) != 32:
            raise ValueError(f"pubKeyHash is {len(key_hash)} bytes, not a SHA-256")
        return Sighting(
            subject_name_der=_b64(str(record["subject"])),
            subject_spki_sha256=key_hash.hex(),
            **common,  # type: ignore[arg-type]
        )
    raise KeyError("neither issuerName+serialNumber nor subject+pubKeyHash")
