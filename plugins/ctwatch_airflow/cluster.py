"""The cluster mode of `make run` (`CTWATCH_EXECUTOR=celery`): CeleryExecutor with a Redis broker and
PostgreSQL metadata, on one machine, every listener on loopback.

Besides the API server, scheduler, DAG processor and triggerer, it starts `CTWATCH_WORKERS` general
Celery workers (default 2; queue `default`: fetch tasks, which only talk to the network and write
staged files) and one `warehouse` worker (queue `warehouse`, concurrency 1: every task of the
warehouse pool, routed there by the cluster policy in airflow_local_settings.py), so DuckDB is only
ever opened by one process. Each worker records its own name as the task instances' hostname
(`worker_hostname`), so Airflow's records show where every task ran.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from ctwatch_airflow.defaults import WAREHOUSE_QUEUE

EXECUTOR_ENV: Final = "CTWATCH_EXECUTOR"
WORKERS_ENV: Final = "CTWATCH_WORKERS"
BROKER_ENV: Final = "CTWATCH_BROKER_URL"
WORKER_NAME_ENV: Final = "CTWATCH_WORKER"
DEFAULT_BROKER: Final = "redis://127.0.0.1:6379/0"
DEFAULT_WORKERS: Final = 2
GENERAL_QUEUE: Final = "default"
GENERAL_CONCURRENCY: Final = 4  # task processes per general worker: fetches wait on the network
WAREHOUSE_WORKER: Final = "worker-warehouse"


class ClusterConfigError(ValueError):
    """The cluster settings cannot work; the message says which variable and why."""


@dataclass(frozen=True, slots=True)
class Cluster:
    workers: int
    broker_url: str

    @property
    def general_workers(self) -> tuple[str, ...]:
        return tuple(f"worker-{number}" for number in range(1, self.workers + 1))

    def components(self) -> dict[str, tuple[str, ...]]:
        """The `airflow` sub-command of each worker."""
        workers = {name: _worker(name, GENERAL_QUEUE, GENERAL_CONCURRENCY) for name in self.general_workers}
        workers[WAREHOUSE_WORKER] = _worker(WAREHOUSE_WORKER, WAREHOUSE_QUEUE, 1)
        return workers

    def environment(self, metadata_url: str) -> dict[str, str]:
        """The Airflow settings of the cluster mode, for every component."""
        return {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "ctwatch_airflow.cluster.worker_hostname",
            "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": result_backend(metadata_url),
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": GENERAL_QUEUE,
        }


def _worker(name: str, queue: str, concurrency: int) -> tuple[str, ...]:
    # no log server (the API server reads the shared log folder), no chatter between workers
    return (
        "celery", "worker", "--queues", queue, "--concurrency", str(concurrency),
        "--celery-hostname", f"{name}@%h", "--skip-serve-logs", "--without-mingle", "--without-gossip",
    )  # fmt: skip


def cluster_from(env: Mapping[str, str], metadata_url: str) -> Cluster | None:
    """The cluster `CTWATCH_EXECUTOR=celery` asks for (None: `local`, the default)."""
    executor = env.get(EXECUTOR_ENV, "local").strip().lower()
    if executor == "local":
        return None
    if executor != "celery":
        raise ClusterConfigError(f"${EXECUTOR_ENV} = {executor!r}: expected local or celery")
    if not metadata_url.startswith("postgresql+psycopg2://"):
        raise ClusterConfigError(
            f"${EXECUTOR_ENV} = celery needs PostgreSQL metadata: set $CTWATCH_AIRFLOW_DB to a "
            "postgresql://… URL (SQLite allows one writer)"
        )
    workers_text = env.get(WORKERS_ENV, str(DEFAULT_WORKERS))
    if not workers_text.isdigit() or not 1 <= int(workers_text) <= 32:
        raise ClusterConfigError(f"${WORKERS_ENV} = {workers_text!r}: expected a number from 1 to 32")
    broker = env.get(BROKER_ENV, DEFAULT_BROKER)
    parts = urlsplit(broker)
    if parts.scheme not in {"redis", "rediss"} or parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise ClusterConfigError(
            f"${BROKER_ENV} = {broker!r}: expected a redis:// URL on loopback (this mode runs on one machine)"
        )
    return Cluster(int(workers_text), broker)


def result_backend(metadata_url: str) -> str:
    """Celery's result backend in the metadata database, with the same driver."""
    return f"db+{metadata_url}"


def worker_hostname() -> str:
    """The hostname Airflow records for a task instance: the machine's, and the worker's name where
    a worker ran it (`[core] hostname_callable`)."""
    name = os.environ.get(WORKER_NAME_ENV)
    host = socket.getfqdn()
    return f"{host}/{name}" if name else host
