"""`make demo`'s replay (12 weekly intervals from 2020-06-15), run once per session and shared by
the demo's tests and the dashboard's browser tests: on SQLite metadata with `--serve` (Airflow
kept up for the dashboard, stopped by Ctrl-C at the end), and on the machine's PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ctwatch import warehouse
from ctwatch.demo import SCENARIO_FILE
from ctwatch.evaluate import read
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.world import World
from tests.cluster.running import alive
from tests.conftest import REPO_ROOT
from tests.services import fresh_postgres_database

END = datetime(2020, 9, 7, tzinfo=UTC)  # 12 weekly intervals: the last as-of is END
DEMO_TIMEOUT_S = 600
DEMO_ARGV = (
    sys.executable, "-m", "ctwatch_airflow.demo",
    "--from", "2020-06-15", "--to", "2020-09-07", "--interval", "7d",
)  # fmt: skip


SERVING = re.compile(r"demo: serving: the dashboard is (\S+)/ctwatch/incidents \(login: admin / (\S+)\)")
STARTED = re.compile(r"ctwatch: started (\S+) \(pid (\d+)\)")


def _environment(data: Path, **extra_env: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CTWATCH_AIRFLOW_DB"))},
        "CTWATCH_DEMO_DIR": str(data),
        "PYTHONPATH": f"{REPO_ROOT / 'include'}{os.pathsep}{REPO_ROOT / 'plugins'}",
        **extra_env,
    }


def _results(data: Path, output: str) -> dict[str, Any]:
    """What the demo left: its output, the world, the verdicts as of END and the alerts sent."""
    world = World.load(load_scenario(SCENARIO_FILE), cache_dir=data / "sim-cache")
    con = warehouse.connect(data / "warehouse.duckdb", read_only=True)
    try:
        assert read.latest_evaluation(con, END) == END
        verdicts = read.verdicts(con, END)
    finally:
        con.close()
    replay = data / "alerts" / "replay.jsonl"
    alerts = [json.loads(line)["alert"]["event"] for line in replay.read_text().splitlines()]
    return {"output": output, "world": world, "verdicts": verdicts, "alerts": alerts, "data": data}


def _run_demo(data: Path, **extra_env: str) -> dict[str, Any]:
    done = subprocess.run(
        [*DEMO_ARGV], cwd=REPO_ROOT, env=_environment(data, **extra_env), capture_output=True, text=True,
        timeout=DEMO_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return _results(data, done.stdout)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`make demo DEMO_ARGS=--serve`: the replay, then its Airflow kept up for the dashboard's
    tests (`base_url`, `password`) until the session ends with Ctrl-C."""
    data = tmp_path_factory.mktemp("demo")
    process = subprocess.Popen(
        [*DEMO_ARGV, "--serve"], cwd=REPO_ROOT, env=_environment(data), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    serving = None
    deadline = time.monotonic() + DEMO_TIMEOUT_S
    while serving is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        serving = SERVING.search(line)
    try:
        assert serving is not None, "".join(lines)
        yield {**_results(data, "".join(lines)), "base_url": serving[1], "password": serving[2]}
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        rest, _ = process.communicate(timeout=120)
    components = {name: int(pid) for name, pid in STARTED.findall("".join(lines))}
    assert process.returncode == 0, rest
    assert "demo: stopped" in rest
    assert [name for name, pid in components.items() if alive(pid)] == []


@pytest.fixture(scope="session")
def demo_on_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with fresh_postgres_database() as url:
        yield _run_demo(tmp_path_factory.mktemp("demo-pg"), CTWATCH_AIRFLOW_DB=url)
