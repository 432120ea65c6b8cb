"""Reading one TOML table of ctwatch.toml's declarations (docs/incidents.md) key by key: every
problem is one line naming the entry, the key, the value and what is expected."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Final

SHA256_HEX: Final = re.compile(r"[0-9a-fA-F]{64}")
INSTANT_EXAMPLE: Final = "2020-07-01T17:30:00Z"


class DeclarationTable:
    """One TOML table of the declarations, read key by key; every problem is collected, none raised,
    so a file with three mistakes gets three lines."""

    def __init__(self, table: Mapping[str, Any], where: str, problems: list[str]) -> None:
        self.table = table
        self.where = where
        self.problems = problems

    def problem(self, key: str, value: object, expected: str) -> None:
        self.problems.append(f"{self.where}.{key} = {_shown(value)}: expected {expected}")

    def unknown_keys(self, known: frozenset[str]) -> None:
        for key in sorted(set(self.table) - known):
            self.problems.append(f"{self.where}: unknown key {key!r} (known: {', '.join(sorted(known))})")

    def required(self, key: str, example: str) -> object | None:
        if key not in self.table:
            self.problems.append(f"{self.where}.{key} is missing: expected {example}")
            return None
        value: object = self.table[key]
        return value

    def text(self, key: str, example: str, *, required: bool = True) -> str | None:
        if key not in self.table and not required:
            return None
        value = self.required(key, example)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(key, value, f"a non-empty string, e.g. {example}")
            return None
        return value

    def instant(self, key: str, *, required: bool = True) -> datetime | None:
        if key not in self.table and not required:
            return None
        value = self.required(key, INSTANT_EXAMPLE)
        if value is None:
            return None
        if isinstance(value, datetime) and value.tzinfo is not None:
            return self._in_utc(key, value)
        if isinstance(value, datetime):
            self.problem(key, value, f"a time with a time zone, e.g. {INSTANT_EXAMPLE} (this one has none)")
        elif isinstance(value, date):
            self.problem(
                key, value, f"an instant with a time zone, not a date, e.g. {value.isoformat()}T17:30:00Z"
            )
        else:
            self.problem(key, value, f"a date-time with a time zone like {INSTANT_EXAMPLE}")
        return None

    def day_or_instant(self, key: str, value: object) -> datetime | None:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                self.problem(key, value, f"a time with a time zone, e.g. {INSTANT_EXAMPLE}, or a date")
                return None
            return self._in_utc(key, value)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        self.problem(key, value, f"a TOML date (2021-03-31) or date-time ({INSTANT_EXAMPLE})")
        return None

    def _in_utc(self, key: str, value: datetime) -> datetime | None:
        try:
            return value.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first instant Python holds
            self.problem(key, value, "an instant between the years 1 and 9999 in UTC")
            return None

    def sha256(self, key: str, value: object) -> str | None:
        if isinstance(value, str) and SHA256_HEX.fullmatch(value):
            return value.lower()
        self.problem(key, value, "a SHA-256 fingerprint: 64 hex digits")
        return None

    def choice(self, key: str, kinds: type[StrEnum], default: StrEnum | None = None) -> Any:
        value = self.table.get(key, default)
        if value is None:
            return None
        try:
            return kinds(value)
        except ValueError:
            self.problem(key, value, "one of " + ", ".join(repr(str(k)) for k in kinds))
            return None


def _shown(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"
