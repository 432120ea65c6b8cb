"""Processes of `make run` (LocalExecutor) killed with SIGKILL in the middle of a replay: the
scheduler, the DAG processor and the API server, each KILLS_EACH times at seeded random moments,
and the task process of the CT load a seeded moment after it opened the warehouse. The replay waits
before each run until the component kills due by then are done, so all of them fall within it
however fast it goes. The launcher starts each killed component again, Airflow retries the tasks a
kill took with it, and the replay ends with the warehouse of the undisturbed replay, table by
table, every alert sent once, and no staged file left. `CTWATCH_FAULT_SEED` replays another
schedule (the seed is printed)."""

from __future__ import annotations

import json
import math
import os
import random
import signal
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from ctwatch.sim.server import SimulatorRunning
from tests.cluster.conftest import Baseline
from tests.cluster.running import (
    REPLAY,
    TIMEOUT_S,
    environment,
    folder,
    replay,
    sent_alerts,
    start,
    stop,
    tables,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SEED = int(os.environ.get("CTWATCH_FAULT_SEED", "1652610"))
KILLED_COMPONENTS = ("scheduler", "dag-processor", "api-server")
KILLS_EACH = 2
PLANNED_KILLS = len(KILLED_COMPONENTS) * KILLS_EACH
# Pauses before each component kill, counted from the moment the previous one was back.
PAUSE_S = (1.0, 6.0)
# When the load's task process is killed, after it opened the warehouse (it holds it about 0.25 s in
# this world).
LOAD_KILL_S = (0.0, 0.05)
# Airflow fails a task it has not heard from for 20 s (default 300 s), retried 5 s later (default
# 120 s); a task queued by a killed scheduler is queued again by the next one's check every 15 s
# (default 300 s).
QUICK_RECOVERY = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
    "CTWATCH_RETRY_DELAY_S": "5",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "15",
}


@dataclass
class Campaign:
    """The kills done, by process, when each killed component answered again, and how long the
    replay was held for them."""

    seed: int
    kills: Counter[str] = field(default_factory=Counter)
    back_after_s: list[float] = field(default_factory=list)
    replay_held_s: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)  # the replay is over
    components_killer_ended: threading.Event = field(default_factory=threading.Event)

    def hold_for_kills(self, dag_id: str) -> None:
        """Before `dag_id` is triggered, wait until the component kills due by then are done: spread
        evenly over the runs before the last, so every planned kill happens within the replay."""
        due = math.ceil(PLANNED_KILLS * REPLAY.index(dag_id) / (len(REPLAY) - 1))
        held_since = time.monotonic()
        while sum(self.kills[name] for name in KILLED_COMPONENTS) < due:
            if self.components_killer_ended.is_set():
                break  # it failed; the test reports why
            assert time.monotonic() < held_since + TIMEOUT_S, (
                f"{due} component kills not done before {dag_id}"
            )
            time.sleep(0.2)
        self.replay_held_s += time.monotonic() - held_since


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
    rng = random.Random(f"{campaign.seed}:components")  # one per killer: draws in a reproducible order
    rng.shuffle(schedule)
    deadline = time.monotonic() + TIMEOUT_S
    try:
        for name in schedule:
            if campaign.done.wait(rng.uniform(*PAUSE_S)):
                return
            guard = _components(folder)[name]
            component = _component_process(guard)
            assert component is not None, f"{name} has no process under its guard {guard}"
            killed_at = time.monotonic()
            component.send_signal(signal.SIGKILL)
            campaign.kills[name] += 1
            _wait_restarted(folder, name, guard, deadline)
            campaign.back_after_s.append(time.monotonic() - killed_at)
    finally:
        campaign.components_killer_ended.set()


def _task_process(title: str) -> psutil.Process | None:
    for process in psutil.process_iter(["cmdline"]):
        if title in " ".join(process.info["cmdline"] or ()):
            return process
    return None


def _unfinished_try(folder: Path, dag_id: str, task_id: str) -> str | None:
    """The id of the task instance's try that has not ended yet (known from the moment its run is
    created, before its process starts), from Airflow's SQLite metadata database."""
    database = folder / "data" / "airflow" / "airflow.db"
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as con:
            row = con.execute(
                "SELECT id FROM task_instance WHERE dag_id = ? AND task_id = ?"
                " AND (state IS NULL OR state IN ('scheduled', 'queued', 'running'))",
                (dag_id, task_id),
            ).fetchone()
    except sqlite3.OperationalError:
        return None  # not created yet, or locked by a writer for longer than the timeout
    return str(uuid.UUID(row[0])) if row else None  # stored as 32 hex digits, titled with dashes


def _has_open(process: psutil.Process, path: Path) -> bool:
    try:
        return any(Path(opened.path) == path for opened in process.open_files())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _kill_load_task(folder: Path, campaign: Campaign) -> None:
    """SIGKILL ingest_ct_logs.load's task process (its title names the try's id) a seeded moment
    after it opened the warehouse: in the middle of its transaction."""
    warehouse = (folder / "data" / "warehouse.duckdb").resolve()
    rng = random.Random(f"{campaign.seed}:load")
    process: psutil.Process | None = None
    while not campaign.done.is_set():
        if process is None or not process.is_running():
            load_try = _unfinished_try(folder, "ingest_ct_logs", "load")
            process = _task_process(f"airflow worker -- {load_try}") if load_try else None
        elif _has_open(process, warehouse):
            time.sleep(rng.uniform(*LOAD_KILL_S))
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                process = None
                continue  # it finished first: wait for the next try's
            campaign.kills["load-task"] += 1
            return
        time.sleep(0.01)


def _staged_files(folder: Path) -> list[Path]:
    staging = folder / "data" / "staging"
    return sorted(path for path in staging.rglob("*") if path.is_file()) if staging.exists() else []


def test_killed_processes_are_started_again_and_the_replay_ends_as_the_undisturbed_one(
    local_baseline: Baseline, sim: SimulatorRunning, tmp_path: Path
) -> None:
    print(f"fault_seed={SEED}")
    campaign = Campaign(SEED)
    local_folder = folder(tmp_path / "local", sim)
    running = start("make run", local_folder, environment(**QUICK_RECOVERY))
    failures: list[BaseException] = []

    def killer_thread(kill: Callable[[Path, Campaign], None]) -> threading.Thread:
        """`kill` running in a thread; what it raises is kept for the test to report."""

        def body() -> None:
            try:
                kill(local_folder, campaign)
            except BaseException as exc:  # reported by the test below
                failures.append(exc)

        thread = threading.Thread(target=body)
        thread.start()
        return thread

    try:
        killers = [
            killer_thread(_kill_components),
            killer_thread(_kill_load_task),
        ]
        replay_s = replay(running, outages=True, before_trigger=campaign.hold_for_kills)
        campaign.done.set()
        for killer in killers:
            killer.join(timeout=TIMEOUT_S)
    finally:
        campaign.done.set()
        stop(running)
    assert not failures, failures
    print(" ".join(f"kills_{name}={n}" for name, n in sorted(campaign.kills.items())))
    print(
        f"replay_with_kills_s={replay_s:.1f} replay_held_for_kills_s={campaign.replay_held_s:.1f}"
        f" max_back_after_kill_s={max(campaign.back_after_s):.1f}"
    )
    assert campaign.kills == {**dict.fromkeys(KILLED_COMPONENTS, KILLS_EACH), "load-task": 1}
    assert tables(local_folder) == local_baseline.tables
    sent = sent_alerts(local_folder)
    assert sent == local_baseline.sent_alerts
    assert set(sent.values()) == {1}, "every alert sent once"
    assert _staged_files(local_folder) == []
