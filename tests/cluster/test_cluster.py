"""The README's cluster mode line (`CTWATCH_EXECUTOR=celery … make run`) on the machine's PostgreSQL
and Redis, in a folder laid out like a clone, against the simulator: the same triggered runs as on
the LocalExecutor give the same warehouse, table by table; every task that opens DuckDB ran on the
warehouse worker and the fetches on the general workers (Airflow's own task-instance records); and
Ctrl-C leaves no component running."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ctwatch import warehouse
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from ctwatch_airflow.rest_api import Api
from tests.ingest.conftest import SMALL
from tests.readme import clone_like, shell_lines

pytestmark = [pytest.mark.integration, pytest.mark.slow]
AS_OF = datetime(2020, 8, 1, tzinfo=UTC)
# the order a replay runs them in; each waits for the one before
REPLAY = ("ingest_ct_logs", "evaluate_rules", "ingest_revocations", "evaluate_compliance")
# what the runs store, compared row by row (surrogate keys and wall-clock columns left out)
COMPARED = {
    "ct_log_coverage": "SELECT log_id, start_index, end_exclusive FROM ct_log_coverage",
    "ct_leaves": "SELECT log_id, entry_index, entry_timestamp, leaf_hash FROM ct_leaves",
    "rule_findings": "SELECT der_sha256, rule_id, evaluated_as_of FROM rule_findings",
    "revocation_snapshots": "SELECT source, observed_at, location, content_sha256 FROM revocation_snapshots",
    "compliance_verdicts": (
        "SELECT as_of, der_sha256, incident_id, status, basis, deadline, delay_s, revoked_at_claimed,"
        " first_observed_revoked_at, basis_text FROM compliance_verdicts"
    ),
    "alert_outbox": "SELECT alert_key, transition, occurred_at FROM alert_outbox",
}
TIMEOUT_S = 600
STARTED = re.compile(r"ctwatch: started (\S+) \(pid (\d+)\)")
LOGIN = re.compile(r"login: admin / (\S+)\)")


@dataclass
class Running:
    process: subprocess.Popen[str]
    api: Api
    components: dict[str, int]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatorRunning]:
    with SimulatorRunning(load_scenario(SMALL), cache_dir=tmp_path / "sim-cache", port=0) as running:
        yield running


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(line: str, folder: Path, env: Mapping[str, str]) -> Running:
    process = subprocess.Popen(
        ["bash", "-c", line], cwd=folder, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    components: dict[str, int] = {}
    assert process.stdout is not None
    for output in process.stdout:
        if started := STARTED.search(output):
            components[started[1]] = int(started[2])
        if login := LOGIN.search(output):
            port = env["CTWATCH_PORT"]
            return Running(process, Api(f"http://127.0.0.1:{port}", login[1]), components)
    raise AssertionError(f"`{line}` ended with {process.wait()} before Airflow came up")


def _stop(running: Running) -> None:
    os.killpg(running.process.pid, signal.SIGINT)  # Ctrl-C in the terminal
    running.process.wait(timeout=120)


def _replay(running: Running) -> float:
    """Trigger the replay's runs one after the other; the seconds they took, once parsed."""
    deadline = time.monotonic() + TIMEOUT_S
    while not set(REPLAY) <= running.api.dags_parsed_since(datetime(2000, 1, 1, tzinfo=UTC)):
        assert time.monotonic() < deadline, "DAGs not parsed"
        time.sleep(2)
    started = time.monotonic()
    for dag_id in REPLAY:
        run_id = running.api.trigger(dag_id, AS_OF, {})
        while (state := running.api.run_state(dag_id, run_id)) not in {"success", "failed"}:
            assert time.monotonic() < deadline, f"{dag_id} still {state}"
            time.sleep(2)
        assert state == "success", dag_id
    return time.monotonic() - started


def _tables(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = warehouse.connect(folder / "data" / "warehouse.duckdb", read_only=True)
    try:
        return {name: sorted(con.execute(sql).fetchall(), key=repr) for name, sql in COMPARED.items()}
    finally:
        con.close()


def _folder(base: Path, sim: SimulatorRunning) -> Path:
    base.mkdir()
    folder = clone_like(base, "Makefile", ".venv", "include", "plugins", "dags", "requirements.txt",
                        "requirements-dev.txt", "pyproject.toml")  # fmt: skip
    (folder / "ctwatch.toml").write_text(sim.config_toml(f"{sim.base_url}/log_list.json"), encoding="utf-8")
    return folder


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTWATCH_", "AIRFLOW"))}
    # only the triggered runs: no scheduled run as of today beside them
    return {
        **env,
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "CTWATCH_PORT": str(_free_port()),
        **extra,
    }


def test_the_cluster_gives_the_local_executors_warehouse_and_keeps_duckdb_on_one_worker(
    sim: SimulatorRunning, tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    (line,) = [
        line
        for line in shell_lines("Scaling out: `docker-compose.yaml`")
        if "CTWATCH_EXECUTOR=celery" in line
    ]
    database = postgres_url.rsplit("/", 1)[1]
    cluster_line = re.sub(r"(postgresql\+psycopg2://[^ ]*/)\w+", rf"\g<1>{database}", line)
    assert cluster_line != line

    local_folder = _folder(tmp_path / "local", sim)
    local = _start("make run", local_folder, _environment())
    try:
        local_s = _replay(local)
    finally:
        _stop(local)
    expected = _tables(local_folder)

    cluster_folder = _folder(tmp_path / "cluster", sim)
    cluster = _start(cluster_line, cluster_folder, _environment(CTWATCH_BROKER_URL=redis_url))
    try:
        assert {"worker-1", "worker-2", "worker-warehouse"} <= set(cluster.components)
        cluster_s = _replay(cluster)
        placed = _placements(postgres_url)
    finally:
        _stop(cluster)
    for name, pid in cluster.components.items():
        assert not _alive(pid), f"{name} (pid {pid}) outlived Ctrl-C"

    assert _tables(cluster_folder) == expected
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


def _placements(postgres_url: str) -> list[tuple[str, str, str, str, str]]:
    import psycopg2

    with (
        psycopg2.connect(postgres_url.replace("postgresql+psycopg2", "postgresql")) as con,
        con.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT dag_id, task_id, pool, queue, hostname FROM task_instance WHERE state = 'success'"
        )
        return list(cursor.fetchall())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
