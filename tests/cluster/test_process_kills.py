"""Processes of `make run` (LocalExecutor) killed with SIGKILL in the middle of a replay: the
scheduler, the DAG processor and the API server, each KILLS_EACH times at seeded random moments,
and the task process of the CT load at a seeded random moment after it started. The launcher starts
each killed component again, Airflow retries the tasks a kill took with it, and the replay ends with
the warehouse of the undisturbed replay, table by table, every alert sent once, and no staged file
left. `CTWATCH_FAULT_SEED` replays another schedule (the seed is printed)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import threading
import time
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from ctwatch.sim.server import SimulatorRunning
from tests.cluster.conftest import Baseline
from tests.cluster.running import TIMEOUT_S, environment, folder, replay, sent_alerts, start, stop, tables

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SEED = int(os.environ.get("CTWATCH_FAULT_SEED", "1652610"))
KILLED_COMPONENTS = ("scheduler", "dag-processor", "api-server")
KILLS_EACH = 2
# Pauses before each component kill, counted from the moment the previous one was back: short
# enough that the 6 kills and their restarts (up to about 16 s each) fit in a replay of 90 to 130 s.
PAUSE_S = (1.0, 6.0)
# When the load's task process is killed, after it appears (a load of this world takes about a second).
LOAD_KILL_S = (0.0, 0.8)
# Airflow fails a task it has not heard from for 20 s (default 300 s), retried 5 s later (default 120 s).
QUICK_RECOVERY = {"AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20", "CTWATCH_RETRY_DELAY_S": "5"}


@dataclass
class Campaign:
    """The kills done, by process, and when each killed component answered again."""

    rng: random.Random
    kills: Counter[str] = field(default_factory=Counter)
    back_after_s: list[float] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


def _components(folder: Path) -> dict[str, int]:
    """The launcher's component guards now, by name (its PID file, rewritten on every restart)."""
    recorded = json.loads((folder / "data" / "airflow" / "launcher-pids.json").read_text())
    components: dict[str, int] = recorded["components"]
    return components


def _component_process(guard_pid: int) -> psutil.Process | None:
    """The Airflow process a guard runs (its first child), once started."""
    try:
        children = psutil.Process(guard_pid).children()
    except psutil.NoSuchProcess:
        return None
    return min(children, key=lambda child: child.pid) if children else None


def _wait_restarted(folder: Path, name: str, old_guard: int, deadline: float) -> None:
    """Until the launcher runs a new guard for `name` with its component started."""
    while time.monotonic() < deadline:
        guard = _components(folder).get(name, old_guard)
        if guard != old_guard and _component_process(guard) is not None:
            return
        time.sleep(0.2)
    raise AssertionError(f"{name} was not started again")


def _kill_components(folder: Path, campaign: Campaign) -> None:
    schedule = [name for name in KILLED_COMPONENTS for _ in range(KILLS_EACH)]
    campaign.rng.shuffle(schedule)
    deadline = time.monotonic() + TIMEOUT_S
    for name in schedule:
        if campaign.done.wait(campaign.rng.uniform(*PAUSE_S)):
            return
        guard = _components(folder)[name]
        component = _component_process(guard)
        assert component is not None, f"{name} has no process under its guard {guard}"
        killed_at = time.monotonic()
        component.send_signal(signal.SIGKILL)
        campaign.kills[name] += 1
        _wait_restarted(folder, name, guard, deadline)
        campaign.back_after_s.append(time.monotonic() - killed_at)


def _task_process(title: str) -> psutil.Process | None:
    for process in psutil.process_iter(["cmdline"]):
        if title in " ".join(process.info["cmdline"] or ()):
            return process
    return None


def _running_try(folder: Path, dag_id: str, task_id: str) -> str | None:
    """The id of the task instance's try running now, from Airflow's SQLite metadata database."""
    database = folder / "data" / "airflow" / "airflow.db"
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as con:
            row = con.execute(
                "SELECT id FROM task_instance WHERE dag_id = ? AND task_id = ? AND state = 'running'",
                (dag_id, task_id),
            ).fetchone()
    except sqlite3.OperationalError:
        return None  # not created yet, or locked by a writer for longer than the timeout
    return str(uuid.UUID(row[0])) if row else None  # stored as 32 hex digits, titled with dashes


def _kill_load_task(folder: Path, campaign: Campaign) -> None:
    """SIGKILL ingest_ct_logs.load's task process while it runs (its title names the try's id)."""
    while not campaign.done.is_set():
        running_try = _running_try(folder, "ingest_ct_logs", "load")
        process = _task_process(f"airflow worker -- {running_try}") if running_try else None
        if process is not None:
            time.sleep(campaign.rng.uniform(*LOAD_KILL_S))
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                continue  # it finished first: wait for the next run's
            campaign.kills["load-task"] += 1
            return
        time.sleep(0.05)


def _staged_files(folder: Path) -> list[Path]:
    staging = folder / "data" / "staging"
    return sorted(path for path in staging.rglob("*") if path.is_file()) if staging.exists() else []


def test_killed_processes_are_started_again_and_the_replay_ends_as_the_undisturbed_one(
    local_baseline: Baseline, sim: SimulatorRunning, tmp_path: Path
) -> None:
    print(f"fault_seed={SEED}")
    campaign = Campaign(random.Random(SEED))
    local_folder = folder(tmp_path / "local", sim)
    running = start("make run", local_folder, environment(**QUICK_RECOVERY))
    failures: list[BaseException] = []

    def guarded(target: object, *args: object) -> threading.Thread:
        def body() -> None:
            try:
                target(*args)  # type: ignore[operator]
            except BaseException as exc:  # reported by the test below
                failures.append(exc)

        thread = threading.Thread(target=body)
        thread.start()
        return thread

    try:
        killers = [
            guarded(_kill_components, local_folder, campaign),
            guarded(_kill_load_task, local_folder, campaign),
        ]
        replay_s = replay(running, outages=True)
        campaign.done.set()
        for killer in killers:
            killer.join(timeout=TIMEOUT_S)
    finally:
        campaign.done.set()
        stop(running)
    assert not failures, failures
    print(" ".join(f"kills_{name}={n}" for name, n in sorted(campaign.kills.items())))
    print(f"replay_with_kills_s={replay_s:.1f} max_back_after_kill_s={max(campaign.back_after_s):.1f}")
    assert campaign.kills == {**dict.fromkeys(KILLED_COMPONENTS, KILLS_EACH), "load-task": 1}
    assert tables(local_folder) == local_baseline.tables
    sent = sent_alerts(local_folder)
    assert sent == local_baseline.sent_alerts
    assert set(sent.values()) == {1}, "every alert sent once"
    assert _staged_files(local_folder) == []
