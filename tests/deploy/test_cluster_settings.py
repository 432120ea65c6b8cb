"""The cluster mode's settings: what `CTWATCH_EXECUTOR=celery` needs and refuses, the workers it
starts, and the Airflow settings every component gets."""

from __future__ import annotations

import pytest

from ctwatch_airflow.cluster import ClusterConfigError, cluster_from

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/airflow"


def test_local_is_the_default() -> None:
    assert cluster_from({}, "sqlite:///x.db") is None
    assert cluster_from({"CTWATCH_EXECUTOR": "local"}, "sqlite:///x.db") is None


@pytest.mark.parametrize(
    ("env", "metadata", "said"),
    [
        ({"CTWATCH_EXECUTOR": "kubernetes"}, PG, "expected local or celery"),
        ({"CTWATCH_EXECUTOR": "celery"}, "sqlite:///x.db", "needs PostgreSQL metadata"),
        ({"CTWATCH_EXECUTOR": "celery"}, "postgresql://h/db", "postgresql+psycopg2://"),
        ({"CTWATCH_EXECUTOR": "celery", "CTWATCH_WORKERS": "0"}, PG, "$CTWATCH_WORKERS = '0'"),
        ({"CTWATCH_EXECUTOR": "celery", "CTWATCH_WORKERS": "two"}, PG, "$CTWATCH_WORKERS = 'two'"),
        ({"CTWATCH_EXECUTOR": "celery", "CTWATCH_BROKER_URL": "redis://10.0.0.5:6379/0"}, PG, "on loopback"),
        ({"CTWATCH_EXECUTOR": "celery", "CTWATCH_BROKER_URL": "amqp://127.0.0.1/"}, PG, "a redis:// URL"),
    ],
)
def test_what_cannot_work_is_refused_with_the_variable_named(
    env: dict[str, str], metadata: str, said: str
) -> None:
    with pytest.raises(ClusterConfigError) as refused:
        cluster_from(env, metadata)
    assert said in str(refused.value)


def test_general_workers_and_one_warehouse_worker_of_concurrency_one() -> None:
    cluster = cluster_from({"CTWATCH_EXECUTOR": "celery", "CTWATCH_WORKERS": "3"}, PG)
    assert cluster is not None
    components = cluster.components()
    assert sorted(components) == ["worker-1", "worker-2", "worker-3", "worker-warehouse"]
    warehouse = components["worker-warehouse"]
    assert warehouse[warehouse.index("--queues") + 1] == "warehouse"
    assert warehouse[warehouse.index("--concurrency") + 1] == "1"
    for name in ("worker-1", "worker-2", "worker-3"):
        argv = components[name]
        assert argv[argv.index("--queues") + 1] == "default"
        assert "--skip-serve-logs" in argv  # no log server listening on every interface
    env = cluster.environment(PG)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == f"db+{PG}"
