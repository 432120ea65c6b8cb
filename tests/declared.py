"""Reading the verdicts a scenario file declares (`expected_verdicts`): delays written by hand."""

from __future__ import annotations

from datetime import timedelta


def parse_delay(text: str | None) -> timedelta | None:
    """'<days>d HH:MM:SS' (the form the scenarios use) as a timedelta; None stays None."""
    if text is None:
        return None
    days, clock = text.split("d ")
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return timedelta(days=int(days), hours=hours, minutes=minutes, seconds=seconds)
