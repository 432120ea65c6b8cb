"""The cluster policy (plugins/airflow_local_settings.py) puts warehouse-pool tasks on the warehouse queue,
as a plain function and as Airflow applies it to the real DAGs it parses."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ctwatch_airflow.defaults import WAREHOUSE_POOL, WAREHOUSE_QUEUE
from tests.conftest import REPO_ROOT


def test_a_task_in_the_warehouse_pool_gets_the_warehouse_queue_whatever_it_asked_for() -> None:
    from airflow_local_settings import task_policy

    task = SimpleNamespace(pool=WAREHOUSE_POOL, queue="fetch")
    task_policy(task)
    assert task.queue == WAREHOUSE_QUEUE


def test_a_task_outside_the_pool_keeps_its_queue() -> None:
    from airflow_local_settings import task_policy

    task = SimpleNamespace(pool="default_pool", queue="fetch")
    task_policy(task)
    assert task.queue == "fetch"


def test_the_policy_routes_plain_and_mapped_operators() -> None:
    from airflow.sdk import DAG, task

    from airflow_local_settings import task_policy

    @task(pool=WAREHOUSE_POOL)
    def load(path: str) -> None:
        del path

    with DAG("routing", schedule=None) as dag:
        load.override(task_id="single")("a")
        load.override(task_id="mapped").expand(path=["a", "b"])
    for task_id in ("single", "mapped"):
        operator = dag.get_task(task_id)
        task_policy(operator)
        assert operator.queue == WAREHOUSE_QUEUE


@pytest.fixture(scope="module")
def serialized_dags() -> list[object]:
    """The project's DAGs as the scheduler sees them: parsed (policies applied) and serialized."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    dagbag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert dagbag.import_errors == {}
    return [DagSerialization.from_dict(DagSerialization.to_dict(dag)) for dag in dagbag.dags.values()]


def test_airflow_loads_the_policy_so_every_warehouse_task_of_the_dags_is_queued_for_the_warehouse(
    serialized_dags: list[object],
) -> None:
    queues_by_pool: dict[str, set[str]] = {}
    for dag in serialized_dags:
        for task in dag.tasks:  # type: ignore[attr-defined]
            queues_by_pool.setdefault(task.pool, set()).add(task.queue)
    assert queues_by_pool.pop(WAREHOUSE_POOL) == {WAREHOUSE_QUEUE}
    assert all(WAREHOUSE_QUEUE not in queues for queues in queues_by_pool.values()), queues_by_pool
