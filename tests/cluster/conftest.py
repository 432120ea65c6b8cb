"""The cluster tests' world: the simulator, and the machine's PostgreSQL and Redis (a fresh database
and a Redis database nobody else uses, both emptied afterwards). Unreachable services skip the
tests, except under `CI=true`, where they fail: CI must not pass by skipping the cluster."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from tests.ingest.conftest import SMALL

PG_HOST = "127.0.0.1"
PG_USER = "postgres"
REDIS_PORT = 6379
CLAIM_KEY = "ctwatch-test-claim"  # marks a Redis database as taken by one test run


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a skip would hide the cluster check)")
    pytest.skip(reason)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a fresh PostgreSQL database, dropped afterwards."""
    import psycopg2

    name = f"ctwatch_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg2.connect(host=PG_HOST, user=PG_USER, dbname="postgres", connect_timeout=5)
    except psycopg2.OperationalError as exc:
        _unavailable(f"PostgreSQL on {PG_HOST}:5432 cannot be reached: {exc}".strip())
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:5432/{name}"
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A broker URL on a Redis database no other run is using (claimed, then emptied)."""
    import redis

    for number in range(1, 16):
        database = redis.Redis(host="127.0.0.1", port=REDIS_PORT, db=number, socket_timeout=5)
        try:
            if not database.set(CLAIM_KEY, os.getpid(), nx=True, ex=3600):
                continue  # another run's
            if database.dbsize() != 1:
                database.delete(CLAIM_KEY)  # someone else's data: leave it alone
                continue
        except redis.ConnectionError as exc:
            _unavailable(f"Redis on 127.0.0.1:{REDIS_PORT} cannot be reached: {exc}")
        try:
            yield f"redis://127.0.0.1:{REDIS_PORT}/{number}"
        finally:
            database.flushdb()
            database.close()
        return
    _unavailable("every Redis database 1-15 is in use")


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatorRunning]:
    with SimulatorRunning(load_scenario(SMALL), cache_dir=tmp_path / "sim-cache", port=0) as running:
        yield running
