"""Reading the snapshot in place, read-only: what the pages show."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from ctwatch.dashboard.sqlfiles import dashboard_sql


class SnapshotReader:
    """One open snapshot file: the one in place when it was opened, whatever is renamed later."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def _docs(self, name: str, *params: Any) -> list[dict[str, Any]]:
        return [json.loads(doc) for (doc,) in self._db.execute(dashboard_sql(name), params)]

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute(dashboard_sql("select_meta")).fetchall())

    def incidents(self) -> list[dict[str, Any]]:
        return self._docs("select_incidents")

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        found = self._docs("select_incident", incident_id)
        return found[0] if found else None

    def certificates(self, incident_id: str) -> list[dict[str, Any]]:
        return self._docs("select_certificates", incident_id)

    def evidence(self, der_sha256: str) -> dict[str, Any] | None:
        found = self._docs("select_evidence", der_sha256)
        return found[0] if found else None

    def plan(self, incident_id: str) -> dict[str, Any] | None:
        found = self._docs("select_plan", incident_id)
        return found[0] if found else None

    def plan_late_leaves(self, incident_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The leaves issued after the plan's stop date, earliest first; `limit` None: all."""
        no_limit = -1  # SQLite: a negative LIMIT has no upper bound
        return self._docs("select_plan_late_leaves", incident_id, no_limit if limit is None else limit)

    def file(self, incident_id: str, name: str) -> bytes | None:
        row = self._db.execute(dashboard_sql("select_file"), (incident_id, name)).fetchone()
        return None if row is None else bytes(row[0])

    def file_names(self, incident_id: str) -> set[str]:
        return {name for (name,) in self._db.execute(dashboard_sql("select_file_names"), (incident_id,))}

    def sources(self) -> list[dict[str, Any]]:
        return self._docs("select_sources")

    def ct_logs(self) -> list[dict[str, Any]]:
        return self._docs("select_ct_logs")

    def alerts(self, limit: int) -> list[dict[str, Any]]:
        return self._docs("select_alerts", limit)

    def alert_count(self) -> int:
        (count,) = self._db.execute(dashboard_sql("count_alerts")).fetchone()
        return int(count)


@contextmanager
def open_snapshot(path: Path) -> Iterator[SnapshotReader | None]:
    """The snapshot at `path`, or None when none was published yet."""
    if not path.exists():
        yield None
        return
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        yield SnapshotReader(db)
