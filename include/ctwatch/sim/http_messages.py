"""What the simulator's request handlers share: the response, the error that becomes one, and the
as-of time a request carries in its `X-Ctwatch-As-Of` header."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

AS_OF_HEADER = "X-Ctwatch-As-Of"


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    # An endless body: `body`, then filler until the client hangs up, at this many bytes per
    # second (0: as fast as it reads); None: `body` is the whole answer.
    endless_bytes_per_second: int | None = None


def json_response(value: Any) -> Response:
    return Response(200, json.dumps(value).encode(), "application/json")


def int_param(query: dict[str, list[str]], name: str) -> int:
    try:
        return int(query[name][0])
    except (KeyError, ValueError, IndexError) as exc:
        raise HttpError(400, f"missing or invalid parameter {name!r}") from exc


def parse_as_of(value: str | None) -> int | None:
    """Milliseconds since the epoch of an RFC 3339 header value (None when absent)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise HttpError(400, f"{AS_OF_HEADER} is not RFC 3339: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
