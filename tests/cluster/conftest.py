"""The cluster tests' world: the simulator, the LocalExecutor replay every cluster run is compared
with, and the machine's PostgreSQL and Redis (a fresh database and a Redis database nobody else
uses, both emptied afterwards). Unreachable services skip the tests, except under `CI=true`, where
they fail: CI must not pass by skipping the cluster."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from tests.cluster.running import environment, folder, replay, sent_alerts, start, stop, tables
from tests.ingest.conftest import SMALL
from tests.services import fresh_postgres_database, unavailable

REDIS_PORT = 6379
CLAIM_KEY = "ctwatch-test-claim"  # marks a Redis database as taken by one test run


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL (psycopg2) of a fresh PostgreSQL database, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url.replace("postgresql://", "postgresql+psycopg2://", 1)


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
            unavailable(f"Redis on 127.0.0.1:{REDIS_PORT} cannot be reached: {exc}")
        try:
            yield f"redis://127.0.0.1:{REDIS_PORT}/{number}"
        finally:
            database.flushdb()
            database.close()
        return
    unavailable("every Redis database 1-15 is in use")


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorRunning]:
    cache = tmp_path_factory.mktemp("sim-cache")
    with SimulatorRunning(load_scenario(SMALL), cache_dir=cache, port=0) as running:
        yield running


@dataclass(frozen=True)
class Baseline:
    """The replay on `make run` as the README gives it (LocalExecutor, SQLite metadata)."""

    tables: dict[str, list[tuple[Any, ...]]]
    sent_alerts: Counter[str]
    replay_s: float


@pytest.fixture(scope="session")
def local_baseline(sim: SimulatorRunning, tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """What every cluster run of the replay must leave: run once, shared by the cluster tests."""
    local_folder = folder(tmp_path_factory.mktemp("local") / "clone", sim)
    local = start("make run", local_folder, environment())
    try:
        seconds = replay(local)
    finally:
        stop(local)
    return Baseline(tables(local_folder), sent_alerts(local_folder), seconds)
