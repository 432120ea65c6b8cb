"""Airflow cluster policy: every task in the warehouse pool runs on the warehouse Celery queue.

Airflow imports the module named `airflow_local_settings` from sys.path when it starts, and it puts
the plugins folder on sys.path first (`airflow.settings.prepare_syspath_for_config_and_plugins`), so
this file is loaded by every component of `make run`, the docker-compose deployment and the tests,
with no DAG naming a queue. Under the LocalExecutor (`make run`) queues are ignored.

The pool keeps one warehouse task at a time; the queue also keeps them in one container, the single
concurrency-1 `worker-warehouse`, so the DuckDB file is only ever opened by one process on one host
while the fetch workers, which only write staged files, scale out.
"""

from __future__ import annotations

from typing import Protocol

from ctwatch_airflow.defaults import WAREHOUSE_POOL, WAREHOUSE_QUEUE

# Airflow registers the policy functions it finds here by name; nothing else is exported to it.
__all__ = ["task_policy"]


class _QueuedTask(Protocol):
    """What the policy touches of an operator (BaseOperator and MappedOperator both have these)."""

    pool: str
    queue: str


def task_policy(task: _QueuedTask) -> None:
    """Route a warehouse-pool task to the warehouse queue, whatever queue its DAG gave it."""
    if task.pool == WAREHOUSE_POOL:
        task.queue = WAREHOUSE_QUEUE
