"""The cluster mode's settings: what `CTWATCH_EXECUTOR=celery` needs and refuses, the workers it
starts, and the Airflow settings every component gets."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ctwatch_airflow.cluster import ClusterConfigError, cluster_from
from ctwatch_airflow.launcher import external_metadata_url
from tests.conftest import REPO_ROOT

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/airflow"
PYTHONPATH = os.pathsep.join(str(REPO_ROOT / name) for name in ("include", "plugins"))


def test_local_is_the_default() -> None:
    assert cluster_from({}, "sqlite:///x.db") is None
    assert cluster_from({"CTWATCH_EXECUTOR": "local"}, "sqlite:///x.db") is None


@pytest.mark.parametrize(
    ("env", "metadata", "said"),
    [
        ({"CTWATCH_EXECUTOR": "kubernetes"}, PG, "expected local or celery"),
        ({"CTWATCH_EXECUTOR": "celery"}, "sqlite:///x.db", "needs PostgreSQL metadata"),
        ({"CTWATCH_EXECUTOR": "celery"}, "mysql://h/db", "needs PostgreSQL metadata"),
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


@pytest.mark.parametrize("given", ["postgresql://postgres@h:5432/db", "postgres://postgres@h:5432/db"])
def test_a_bare_postgresql_url_gets_the_installed_driver(given: str) -> None:
    url = external_metadata_url({"CTWATCH_AIRFLOW_DB": given})
    assert url == "postgresql+psycopg2://postgres@h:5432/db"
    assert cluster_from({"CTWATCH_EXECUTOR": "celery"}, url) is not None


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


def test_a_metadata_database_that_is_not_there_is_one_clear_line_and_status_2(tmp_path: Path) -> None:
    missing = f"postgresql+psycopg2://postgres:s3cret@127.0.0.1:5432/ctwatch_missing_{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTWATCH_", "AIRFLOW"))}
    env |= {
        "CTWATCH_AIRFLOW_DB": missing,
        "CTWATCH_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": PYTHONPATH,
    }
    done = subprocess.run(
        [sys.executable, "-m", "ctwatch_airflow.launcher", "--port", "0"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ctwatch: `airflow db migrate` failed"), last
    assert "is the metadata database reachable and created?" in last
    assert "postgres:***@" in last
    assert "s3cret" not in last
