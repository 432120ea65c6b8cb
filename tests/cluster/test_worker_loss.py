"""Workers lost in the middle of a replay on the cluster mode: a general worker killed (its whole
process group, as a lost machine) while it fetches a CT range, then the warehouse worker killed as
soon as its load task runs. The launcher restarts them, Airflow retries the tasks it no longer hears
from, and the warehouse ends identical to an undisturbed LocalExecutor run: every CT leaf once,
coverage contiguous, the same observations and verdicts, every alert sent once."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from ctwatch.sim.server import SimulatorRunning
from tests.cluster.conftest import Baseline
from tests.cluster.running import (
    TIMEOUT_S,
    Running,
    cluster_line,
    environment,
    folder,
    metadata_rows,
    replay,
    sent_alerts,
    start,
    stop,
    tables,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# Slow fetches (about 12 s per log) leave time to kill a worker in the middle of one.
SLOW_FETCH = {"CTWATCH_CT_BATCH_SIZE": "50", "CTWATCH_CT_REQUESTS_PER_SECOND": "5"}
# Airflow retries a task it has not heard from for 20 s (default 300 s), 10 s later (default 120 s).
QUICK_LOSS = {"AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20", "CTWATCH_RETRY_DELAY_S": "10"}


def _running_on(postgres_url: str, dag_id: str, task_id: str) -> str | None:
    """The worker running the first try of the task right now, if any."""
    rows = metadata_rows(
        postgres_url,
        "SELECT hostname FROM task_instance WHERE dag_id = %s AND task_id = %s AND state = 'running'"
        " AND try_number = 1 AND hostname LIKE '%%/%%' LIMIT 1",
        (dag_id, task_id),
    )
    return str(rows[0][0]).rsplit("/", 1)[1] if rows else None


def _tries(postgres_url: str, dag_id: str, task_id: str) -> list[tuple[int, str]]:
    sql = "SELECT try_number, state FROM task_instance WHERE dag_id = %s AND task_id = %s ORDER BY map_index"
    return [(int(n), str(s)) for n, s in metadata_rows(postgres_url, sql, (dag_id, task_id))]


def _kill_when_running(
    cluster: Running, postgres_url: str, dag_id: str, task_id: str, *, into_s: float
) -> str:
    """Kill the worker running the task `into_s` seconds after the task started."""
    deadline = time.monotonic() + TIMEOUT_S
    while (worker := _running_on(postgres_url, dag_id, task_id)) is None:
        assert time.monotonic() < deadline, f"{dag_id}.{task_id} never ran"
        time.sleep(0.1)
    time.sleep(into_s)
    os.killpg(cluster.components[worker], signal.SIGKILL)
    return worker


def test_lost_workers_are_restarted_their_tasks_retried_and_nothing_is_lost_or_doubled(
    postgres_url: str, redis_url: str, local_baseline: Baseline, sim: SimulatorRunning, tmp_path: Path
) -> None:
    cluster_folder = folder(tmp_path / "cluster", sim)
    env = environment(CTWATCH_BROKER_URL=redis_url, **SLOW_FETCH, **QUICK_LOSS)
    cluster = start(cluster_line(postgres_url), cluster_folder, env)
    replayed: list[BaseException | float] = []

    def run_replay() -> None:
        try:
            replayed.append(replay(cluster))
        except BaseException as exc:  # reported by the test below
            replayed.append(exc)

    replaying = threading.Thread(target=run_replay)
    try:
        replaying.start()
        # a fetch takes about 12 s: a second in is past its start-up; a load can end within a
        # second, so its worker is killed as soon as it runs it
        fetcher = _kill_when_running(cluster, postgres_url, "ingest_ct_logs", "fetch", into_s=1.0)
        loader = _kill_when_running(cluster, postgres_url, "ingest_ct_logs", "load", into_s=0.0)
        replaying.join(timeout=TIMEOUT_S)
        fetch_tries, load_tries = (_tries(postgres_url, "ingest_ct_logs", t) for t in ("fetch", "load"))
    finally:
        stop(cluster)
    assert fetcher.startswith("worker-")
    assert loader == "worker-warehouse"
    assert replayed
    assert isinstance(replayed[0], float), replayed[0]
    assert (2, "success") in fetch_tries, fetch_tries  # the killed fetch, retried
    assert load_tries == [(2, "success")]
    assert tables(cluster_folder) == local_baseline.tables
    sent = sent_alerts(cluster_folder)
    assert sent == local_baseline.sent_alerts
    assert sent, "alerts were sent"
    assert set(sent.values()) == {1}, "every alert sent once"
    print(f"replay_with_two_worker_losses_s={replayed[0]:.1f}")
