"""The few leaf fields compliance needs (serial, notBefore, notAfter), by a small DER walk.

A watched issuer's leaves are walked, not analysed: the full analyser costs ~120 µs per
certificate, this walk a few µs. It reads a Certificate or a bare TBSCertificate (what a precert
entry logs) and stops after the validity. Anything unexpected raises `DerWalkError`; callers
keep the entry with empty fields and record the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

_SEQUENCE = 0x30
_INTEGER = 0x02
_VERSION = 0xA0  # [0] EXPLICIT Version
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_SECONDS_PER_DAY = 86_400


class DerWalkError(ValueError):
    """The bytes are not the Certificate / TBSCertificate shape the walk expects."""


@dataclass(frozen=True, slots=True)
class LeafFields:
    """Serial number content octets (as encoded, sign byte included) and validity in epoch seconds."""

    serial: bytes
    not_before_s: int
    not_after_s: int


def _element(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at pos; definite lengths only (DER)."""
    if pos + 2 > end:
        raise DerWalkError(f"truncated element at {pos}")
    tag = buf[pos]
    first = buf[pos + 1]
    if first < 0x80:
        start = pos + 2
        stop = start + first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + 2 + count > end:
            raise DerWalkError(f"bad length encoding at {pos}")
        start = pos + 2 + count
        stop = start + int.from_bytes(buf[pos + 2 : start], "big")
    if stop > end:
        raise DerWalkError(f"element at {pos} runs past its container")
    return tag, start, stop


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm, no datetime)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def _time_s(buf: bytes, tag: int, start: int, stop: int) -> int:
    """Epoch seconds of a DER UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ)."""
    text = buf[start:stop]
    if tag == _UTC_TIME and len(text) == 13:
        year = int(text[0:2])
        year += 1900 if year >= 50 else 2000  # RFC 5280 §4.1.2.5.1
        rest = text[2:12]
    elif tag == _GENERALIZED_TIME and len(text) == 15:
        year = int(text[0:4])
        rest = text[4:14]
    else:
        raise DerWalkError(f"time tag {tag:#x} of {len(text)} bytes is not DER UTCTime/GeneralizedTime")
    if text[-1:] != b"Z" or not rest.isdigit():
        raise DerWalkError(f"time {text!r} is not YYMMDDHHMMSSZ")
    month, day, hour, minute, second = (int(rest[i : i + 2]) for i in range(0, 10, 2))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise DerWalkError(f"time {text!r} is out of range")
    return _days_from_civil(year, month, day) * _SECONDS_PER_DAY + hour * 3600 + minute * 60 + second


def leaf_fields(der: bytes, *, is_tbs: bool) -> LeafFields:
    """Serial and validity of a Certificate (`is_tbs` False) or a TBSCertificate (True)."""
    end = len(der)
    tag, start, stop = _element(der, 0, end)
    if tag != _SEQUENCE:
        raise DerWalkError(f"outer tag {tag:#x} is not SEQUENCE")
    if not is_tbs:
        tag, start, stop = _element(der, start, stop)
        if tag != _SEQUENCE:
            raise DerWalkError(f"tbsCertificate tag {tag:#x} is not SEQUENCE")
    tag, pos, field_end = _element(der, start, stop)
    if tag == _VERSION:
        tag, pos, field_end = _element(der, field_end, stop)
    if tag != _INTEGER or field_end == pos:
        raise DerWalkError(f"serialNumber tag {tag:#x} is not a non-empty INTEGER")
    serial = der[pos:field_end]
    _, _, field_end = _element(der, field_end, stop)  # signature AlgorithmIdentifier
    _, _, field_end = _element(der, field_end, stop)  # issuer Name
    tag, pos, validity_end = _element(der, field_end, stop)
    if tag != _SEQUENCE:
        raise DerWalkError(f"validity tag {tag:#x} is not SEQUENCE")
    tag, time_start, time_stop = _element(der, pos, validity_end)
    not_before_s = _time_s(der, tag, time_start, time_stop)
    tag, time_start, time_stop = _element(der, time_stop, validity_end)
    not_after_s = _time_s(der, tag, time_start, time_stop)
    return LeafFields(serial, not_before_s, not_after_s)
