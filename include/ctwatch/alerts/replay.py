"""The replay sink: historical alerts (raised while evaluating the past) as JSON lines in a file.

Idempotent by alert key, so a resend after a crash between writing and marking adds no line.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from ctwatch.alerts.format import json_payload
from ctwatch.alerts.outbox import REPLAY_CHANNEL, PendingAlert


class ReplaySink:
    """Appends one line per alert key to `path`: {"key", "recorded_at", "alert": <JSON webhook body>}."""

    name = REPLAY_CHANNEL

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: set[str] | None = None  # read from the file on first use

    def send(self, alert: PendingAlert) -> str:
        keys = self._known_keys()
        if alert.key in keys:
            return f"already in {self.path.name}"
        line = json.dumps(
            {
                "key": alert.key,
                "recorded_at": datetime.now(UTC).isoformat(),
                "alert": json_payload(alert.event),
            }
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as out:
            if out.tell() > 0 and not self._ends_with_newline():
                out.write(b"\n")  # a line cut short by a crash stays on its own, unparsed line
            out.write(line.encode("utf-8") + b"\n")
            out.flush()
            os.fsync(out.fileno())
        keys.add(alert.key)
        return f"appended to {self.path.name}"

    def _known_keys(self) -> set[str]:
        if self._keys is None:
            self._keys = set()
            if self.path.exists():
                with self.path.open("rb") as lines:
                    for raw in lines:
                        try:
                            self._keys.add(str(json.loads(raw)["key"]))
                        except (ValueError, KeyError, TypeError):
                            continue  # a partial line from an interrupted write: that alert is resent
        return self._keys

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as existing:
            existing.seek(-1, os.SEEK_END)
            return existing.read(1) == b"\n"
