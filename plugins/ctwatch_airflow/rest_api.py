"""The few calls of Airflow's REST API the demo polls with (the backfills themselves go through the
CLI)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ctwatch.timeutil import parse_utc
from ctwatch_airflow.launcher import ADMIN_USER
from ctwatch_airflow.replay_plan import Replay


class Api:
    """The few REST calls the demo polls with (the backfills themselves go through the CLI)."""

    def __init__(self, base_url: str, password: str) -> None:
        self.base_url = base_url
        token = self._call("/auth/token", body={"username": ADMIN_USER, "password": password})
        self._token: str = token["access_token"]

    @property
    def token(self) -> str:
        """The JWT this client sends: a Bearer token for Airflow's API and its plugins' pages."""
        return self._token

    def _call(self, path: str, body: Mapping[str, Any] | None = None, method: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "_token", None):
            headers["Authorization"] = f"Bearer {self._token}"
        data = json.dumps(body).encode() if body is not None else None
        # A plain-http loopback URL the launcher built, never user input.
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            text = response.read()
            return json.loads(text) if text else None

    def dags_parsed_since(self, moment: datetime) -> set[str]:
        """The DAGs the dag processor parsed at or after `moment` (a DAG file's interval comes from
        the environment: one serialized by an earlier demo may have another)."""
        dags = self._call("/api/v2/dags?limit=100")["dags"]
        return {
            dag["dag_id"]
            for dag in dags
            if dag["last_parsed_time"] and parse_utc(dag["last_parsed_time"]) >= moment
        }

    def import_errors(self) -> list[str]:
        errors = self._call("/api/v2/importErrors")["import_errors"]
        return [f"{e['filename']}: {e['stack_trace'].strip().splitlines()[-1]}" for e in errors]

    def trigger(self, dag_id: str, logical_date: datetime, conf: Mapping[str, Any]) -> str:
        # A run without a logical date has no data interval, and the DAGs read data_interval_end.
        body = {"logical_date": logical_date.isoformat(), "conf": dict(conf)}
        run = self._call(f"/api/v2/dags/{dag_id}/dagRuns", body=body)
        run_id: str = run["dag_run_id"]
        return run_id

    def delete_runs_of_another_interval(self, dag_id: str, step: timedelta) -> int:
        """Delete the DAG's runs whose data interval is not `step` long (an earlier demo's other
        --interval): a backfill re-runs an existing run with its old interval, and a run of the new
        interval cannot be created inside an old one. Returns how many were deleted."""
        runs = self._call(f"/api/v2/dags/{dag_id}/dagRuns?limit=1000")["dag_runs"]
        deleted = 0
        for run in runs:
            start, end = run["data_interval_start"], run["data_interval_end"]
            if start and end and parse_utc(end) - parse_utc(start) != step:
                quoted = urllib.parse.quote(run["dag_run_id"], safe="")
                self._call(f"/api/v2/dags/{dag_id}/dagRuns/{quoted}", method="DELETE")
                deleted += 1
        return deleted

    def run_state(self, dag_id: str, run_id: str) -> str:
        quoted = urllib.parse.quote(run_id, safe="")
        state: str = self._call(f"/api/v2/dags/{dag_id}/dagRuns/{quoted}")["state"]
        return state

    def _backfills(self, dag_id: str) -> list[dict[str, Any]]:
        backfills: list[dict[str, Any]] = self._call(f"/api/v2/backfills?dag_id={dag_id}&limit=100")[
            "backfills"
        ]
        return backfills

    def backfill_ids(self, dag_id: str) -> set[int]:
        return {b["id"] for b in self._backfills(dag_id)}

    def unfinished_backfill_ids(self, dag_id: str) -> set[int]:
        return {b["id"] for b in self._backfills(dag_id) if b["completed_at"] is None}

    def backfill(self, backfill_id: int) -> dict[str, Any]:
        backfill: dict[str, Any] = self._call(f"/api/v2/backfills/{backfill_id}")
        return backfill

    def backfill_runs(self, dag_id: str, replay: Replay) -> dict[str, tuple[str, str | None]]:
        """run_id -> (state, end_date) of the DAG's backfill runs whose interval ends in the replay."""
        query = urllib.parse.urlencode(
            {
                "run_type": "backfill",
                "run_after_gte": (replay.start + replay.step_of(dag_id)).isoformat(),
                "run_after_lte": replay.last_as_of_of(dag_id).isoformat(),
                "limit": 1000,
            }
        )
        runs = self._call(f"/api/v2/dags/{dag_id}/dagRuns?{query}")["dag_runs"]
        return {run["dag_run_id"]: (run["state"], run["end_date"]) for run in runs}
