"""Defaults every ctwatch DAG shares."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

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

RETRY_DELAY_ENV: Final = "CTWATCH_RETRY_DELAY_S"
DEFAULT_RETRY_DELAY = timedelta(minutes=2)


def retry_delay(env: Mapping[str, str]) -> timedelta:
    """The first retry's delay (it doubles up to 30 min): `$CTWATCH_RETRY_DELAY_S` seconds, read
    where the DAG files are parsed."""
    text = env.get(RETRY_DELAY_ENV)
    if text is None:
        return DEFAULT_RETRY_DELAY
    if not text.strip().isdigit() or not 1 <= int(text) <= 3600:
        raise ValueError(f"${RETRY_DELAY_ENV} = {text!r}: expected whole seconds from 1 to 3600")
    return timedelta(seconds=int(text))


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "ctwatch",
    "retries": 2,
    "retry_delay": retry_delay(os.environ),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}
