"""The README's cluster mode line (`CTWATCH_EXECUTOR=celery … make run`) on the machine's PostgreSQL
and Redis, against the simulator: the same triggered runs as on the LocalExecutor give the same
warehouse, table by table; every task that opens DuckDB ran on the warehouse worker and the fetches
on the general workers (Airflow's own task-instance records); and Ctrl-C leaves no component
running."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ctwatch.sim.server import SimulatorRunning
from tests.cluster.running import (
    alive,
    cluster_line,
    environment,
    folder,
    placements,
    replay,
    start,
    stop,
    tables,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_cluster_gives_the_local_executors_warehouse_and_keeps_duckdb_on_one_worker(
    sim: SimulatorRunning, tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    local_folder = folder(tmp_path / "local", sim)
    local = start("make run", local_folder, environment())
    try:
        local_s = replay(local)
    finally:
        stop(local)
    expected = tables(local_folder)

    cluster_folder = folder(tmp_path / "cluster", sim)
    cluster = start(cluster_line(postgres_url), cluster_folder, environment(CTWATCH_BROKER_URL=redis_url))
    try:
        assert {"worker-1", "worker-2", "worker-warehouse"} <= set(cluster.components)
        cluster_s = replay(cluster)
        placed = placements(postgres_url)
    finally:
        stop(cluster)
    for name, pid in cluster.components.items():
        assert not alive(pid), f"{name} (pid {pid}) outlived Ctrl-C"

    assert tables(cluster_folder) == expected
    assert all(expected.values()), {name: len(rows) for name, rows in expected.items()}
    warehouse_tasks = {(dag, task) for dag, task, pool, _, _ in placed if pool == "warehouse"}
    assert ("ingest_ct_logs", "load") in warehouse_tasks
    for dag_id, task_id, pool, queue, hostname in placed:
        where = f"{dag_id}.{task_id} ran on {hostname} from queue {queue}"
        if pool == "warehouse":
            assert (queue, hostname.rsplit("/", 1)[1]) == ("warehouse", "worker-warehouse"), where
        else:
            assert queue == "default", where
            assert hostname.rsplit("/", 1)[1] in {"worker-1", "worker-2"}, where
    fetches = [h for dag, task, _, _, h in placed if (dag, task) == ("ingest_ct_logs", "fetch")]
    assert fetches
    per_worker = Counter(hostname.rsplit("/", 1)[1] for *_, hostname in placed)
    print(f"replay_s_local={local_s:.1f} replay_s_celery={cluster_s:.1f}")  # the figures, with -s
    print(" ".join(f"tasks_{worker}={count}" for worker, count in sorted(per_worker.items())))
