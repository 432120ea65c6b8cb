"""`make demo`'s replay (12 weekly intervals from 2020-06-15), run once per session and shared by
the demo's tests and the dashboard's browser tests: on SQLite metadata with `--serve` (Airflow
kept up for the dashboard, stopped by Ctrl-C at the end). And, on the machine's PostgreSQL, the
first 4 of those weeks (to SHORT_END, past the deadline of 2020-07-08), compared with what the
SQLite replay stored for the same as-ofs."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
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
from tests.conftest import REPO_ROOT, SIGINT_IGNORED
from tests.services import fresh_postgres_database

START = datetime(2020, 6, 15, tzinfo=UTC)
END = datetime(2020, 9, 7, tzinfo=UTC)  # 12 weekly intervals: the last as-of is END
SHORT_END = datetime(2020, 7, 13, tzinfo=UTC)  # the PostgreSQL replay: the first 4 of them
INTERVAL = "7d"  # revocations and evaluation; crt.sh and Bugzilla keep the demo's default, 7d too
DEMO_TIMEOUT_S = 600


def demo_argv(end: datetime) -> tuple[str, ...]:
    return (
        sys.executable, "-m", "ctwatch_airflow.demo",
        "--from", f"{START:%Y-%m-%d}", "--to", f"{end:%Y-%m-%d}", "--interval", INTERVAL,
    )  # fmt: skip


SERVING = re.compile(r"demo: serving: the dashboard is (\S+)/ctwatch/incidents \(login: admin / (\S+)\)")
STARTED = re.compile(r"ctwatch: started (\S+) \(pid (\d+)\)")
SIMULATOR = re.compile(r"demo: simulator http://127\.0\.0\.1:(\d+) ")


def _environment(data: Path, **extra_env: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CTWATCH_AIRFLOW_DB"))},
        "CTWATCH_DEMO_DIR": str(data),
        "PYTHONPATH": f"{REPO_ROOT / 'include'}{os.pathsep}{REPO_ROOT / 'plugins'}",
        **extra_env,
    }


def _results(data: Path, output: str, as_of: datetime) -> dict[str, Any]:
    """What a demo left: its output, the simulator's port, the verdicts as of its last as-of and
    the alerts sent."""
    con = warehouse.connect(data / "warehouse.duckdb", read_only=True)
    try:
        assert read.latest_evaluation(con, as_of) == as_of
        verdicts = read.verdicts(con, as_of)
    finally:
        con.close()
    replay = data / "alerts" / "replay.jsonl"
    alerts = [json.loads(line)["alert"]["event"] for line in replay.read_text().splitlines()]
    (port,) = SIMULATOR.findall(output)
    return {"output": output, "port": port, "verdicts": verdicts, "alerts": alerts, "data": data}


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`make demo DEMO_ARGS=--serve`: the replay, then its Airflow kept up for the dashboard's
    tests (`base_url`, `password`) until the session ends with Ctrl-C. Started as a non-interactive
    shell starts a background job, with SIGINT ignored: Ctrl-C must stop it all the same."""
    data = tmp_path_factory.mktemp("demo")
    process = subprocess.Popen(
        [*SIGINT_IGNORED, *demo_argv(END), "--serve"], cwd=REPO_ROOT, env=_environment(data),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
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
        world = World.load(load_scenario(SCENARIO_FILE), cache_dir=data / "sim-cache")
        results = _results(data, "".join(lines), END)
        yield {**results, "world": world, "base_url": serving[1], "password": serving[2]}
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        rest, _ = process.communicate(timeout=120)
    components = {name: int(pid) for name, pid in STARTED.findall("".join(lines))}
    assert process.returncode == 0, rest
    assert "demo: stopped (SIGINT)" in rest
    assert [name for name, pid in components.items() if alive(pid)] == []
    with pytest.raises(ConnectionRefusedError):  # the simulator stopped too
        socket.create_connection(("127.0.0.1", int(results["port"])), timeout=5).close()


@pytest.fixture(scope="session")
def demo_on_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo to SHORT_END with its metadata in a fresh PostgreSQL database."""
    data = tmp_path_factory.mktemp("demo-pg")
    with fresh_postgres_database() as url:
        done = subprocess.run(
            demo_argv(SHORT_END), cwd=REPO_ROOT, env=_environment(data, CTWATCH_AIRFLOW_DB=url),
            capture_output=True, text=True, timeout=DEMO_TIMEOUT_S, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        yield _results(data, done.stdout, SHORT_END)
