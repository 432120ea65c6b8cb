"""Defaults every ctwatch DAG shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

# DuckDB allows one writer process per file and a writer blocks readers elsewhere: every task that
# opens the warehouse runs in this one-slot pool.
WAREHOUSE_POOL = "warehouse"
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = "DuckDB warehouse: one process at a time"
# The Celery queue of the single concurrency-1 worker that owns the warehouse file (docker-compose.yaml).
# Tasks need not name it: the cluster policy in plugins/airflow_local_settings.py routes the pool to it.
WAREHOUSE_QUEUE = "warehouse"

# Early enough for any CT history (Certificate Transparency began in 2013): a backfill of any past
# incident has runs to create. Live runs do not catch up (catchup=False).
HISTORY_START = datetime(2013, 1, 1, tzinfo=UTC)

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "ctwatch",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}
