"""Driving the demo's Airflow: manual runs and backfills, created through the REST API and the
CLI, and polled until they are done."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ctwatch.demo import alert_counts
from ctwatch_airflow.launcher import Layout, airflow_cli_argv
from ctwatch_airflow.replay_plan import ALERTS_DAG, Replay
from ctwatch_airflow.rest_api import Api

POLL_S = 5.0
PHASE_TIMEOUT_S = 1800.0
MAX_ALERT_RUNS = 20


class DemoFailed(RuntimeError):
    """A phase of the demo could not complete; the message says which and where to look."""


class ComponentDied(DemoFailed):
    """An Airflow component exited while the demo waited on it."""


def say(message: str) -> None:
    print(f"demo: {message}", flush=True)


@dataclass
class Instance:
    """The running demo Airflow: where it lives, its environment, its API and its processes."""

    layout: Layout
    env: dict[str, str]
    api: Api
    processes: dict[str, subprocess.Popen[bytes]]


def wait_for(
    what: str,
    done: Callable[[], bool],
    processes: Mapping[str, subprocess.Popen[bytes]],
    timeout_s: float = PHASE_TIMEOUT_S,
) -> None:
    """Poll `done` until it holds; fail fast when an Airflow component exits or time runs out."""
    started = time.monotonic()
    while not done():
        dead = [name for name, process in processes.items() if process.poll() is not None]
        if dead:
            raise ComponentDied(f"{what}: {', '.join(dead)} exited; see the component logs")
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"{what}: not done after {timeout_s:.0f} s")
        time.sleep(POLL_S)


def run_once(airflow: Instance, dag_id: str, logical_date: datetime, conf: Mapping[str, Any]) -> str:
    """Trigger one manual run and wait for it; returns its final state."""
    api = airflow.api
    run_id = api.trigger(dag_id, logical_date, conf)
    states: list[str] = []

    def finished() -> bool:
        states.append(api.run_state(dag_id, run_id))
        return states[-1] in ("success", "failed")

    wait_for(f"{dag_id} {run_id}", finished, airflow.processes)
    return states[-1]


def create_backfill(airflow: Instance, dag_id: str, argv: list[str]) -> int:
    """Run `airflow backfill create` next to the running components; returns the new backfill's
    id. Its output goes to logs/components/backfill-create.log."""
    before = airflow.api.backfill_ids(dag_id)
    log_file = airflow.layout.airflow_home / "logs" / "components" / "backfill-create.log"
    with log_file.open("ab") as log:
        created = subprocess.run(argv, env=airflow.env, check=False, stdout=log, stderr=log)
    new = airflow.api.unfinished_backfill_ids(dag_id) - before
    if created.returncode != 0 or not new:
        raise DemoFailed(f"backfill create of {dag_id} exited with {created.returncode}; see {log_file}")
    return max(new)


def _replayed(airflow: Instance, dag_id: str, replay: Replay, backfill_id: int, created_at: str) -> bool:
    """Whether every run of the DAG's replay ran to an end since its backfill was created; a
    DemoFailed once the backfill is completed without that."""
    runs = airflow.api.backfill_runs(dag_id, replay)
    # ISO 8601 UTC strings from the same API compare in time order.
    stale = [run_id for run_id, (_, ended) in runs.items() if ended is None or ended < created_at]
    done = all(state in ("success", "failed") for state, _ in runs.values())
    if len(runs) == replay.runs_of(dag_id) and done and not stale:
        return True
    if airflow.api.backfill(backfill_id)["completed_at"] is not None:
        raise DemoFailed(
            f"{dag_id}: {len(runs)} runs in the replay, {replay.runs_of(dag_id)} expected,"
            f" {len(stale)} not (re)run"
        )
    return False


def backfill(
    airflow: Instance, dag_ids: Sequence[str], replay: Replay, conf: Mapping[str, Any] | None = None
) -> None:
    """`airflow backfill create` for each DAG over the replay (runs with `conf`), then poll its runs
    until all are done."""
    backfills: dict[str, tuple[int, str]] = {}
    for dag_id in dag_ids:
        # Airflow refuses a second backfill of a DAG until the scheduler (every 30 s) marks the
        # earlier one completed, e.g. an earlier demo's that ended just before this one started.
        wait_for(
            f"{dag_id}: earlier backfills marked completed",
            lambda dag_id=dag_id: not airflow.api.unfinished_backfill_ids(dag_id),
            airflow.processes,
        )
        if deleted := airflow.api.delete_runs_of_another_interval(dag_id, replay.step_of(dag_id)):
            say(f"{dag_id}: deleted {deleted} runs of another interval (an earlier demo's)")
        argv = airflow_cli_argv(
            "backfill", "create", "--dag-id", dag_id,
            "--from-date", replay.start.isoformat(), "--to-date", replay.last_start_of(dag_id).isoformat(),
            "--max-active-runs", "1", "--reprocess-behavior", "completed",
            *(("--dag-run-conf", json.dumps(conf)) if conf else ()),
        )  # fmt: skip
        say(" ".join(["airflow", *argv[3:]]))
        backfill_id = create_backfill(airflow, dag_id, argv)
        backfills[dag_id] = (backfill_id, airflow.api.backfill(backfill_id)["created_at"])

    # The runs themselves, not the backfill's completed_at, which the scheduler sets up to 30 s later.
    wait_for(
        "backfills " + ", ".join(dag_ids),
        lambda: all(_replayed(airflow, dag_id, replay, *backfill) for dag_id, backfill in backfills.items()),
        airflow.processes,
    )
    for dag_id in dag_ids:
        runs = airflow.api.backfill_runs(dag_id, replay)
        failed = sorted(run_id for run_id, (state, _) in runs.items() if state == "failed")
        say(f"{dag_id}: {len(runs)} runs, failed: {', '.join(failed) or 'none'}")


def send_all_alerts(airflow: Instance) -> None:
    """Run `send_alerts` until a run delivers nothing new (one run sends at most 100 alerts)."""
    replay_file = airflow.layout.data / "alerts" / "replay.jsonl"
    for _ in range(MAX_ALERT_RUNS):
        before = sum(alert_counts(replay_file).values())
        state = run_once(airflow, ALERTS_DAG, datetime.now(UTC), {})
        sent = sum(alert_counts(replay_file).values()) - before
        say(f"{ALERTS_DAG}: {state}, {sent} historical alerts to the replay sink")
        if state != "success" or sent == 0:
            return
