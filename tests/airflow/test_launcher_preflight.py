"""A new `make run` stops at once, saying what to do, while an earlier one still runs or its port is
taken; the PID file of one that is gone does not stop it. A running one starts an exited component
again until it keeps failing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctwatch_airflow.launcher import Layout, RestartBudget, earlier_instance
from tests.conftest import REPO_ROOT, SIGINT_IGNORED

PYTHONPATH = f"{REPO_ROOT / 'include'}{os.pathsep}{REPO_ROOT / 'plugins'}"


def _launch(data: Path, port: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTWATCH_", "AIRFLOW"))}
    env |= {"CTWATCH_DATA_DIR": str(data), "PYTHONPATH": PYTHONPATH}
    return subprocess.run(
        [sys.executable, "-m", "ctwatch_airflow.launcher", "--port", str(port)],
        cwd=data.parent, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _record(airflow_home: Path, launcher: int, components: dict[str, int]) -> Path:
    airflow_home.mkdir(parents=True)
    pid_file = airflow_home / "launcher-pids.json"
    pid_file.write_text(json.dumps({"launcher": launcher, "components": components}))
    return pid_file


@pytest.fixture
def earlier_launcher() -> Iterator[int]:
    """A live process whose command line is a launcher's."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", "-m", "ctwatch_airflow.launcher"]
    )
    yield process.pid
    process.kill()
    process.wait()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_running_earlier_launcher_is_named_with_how_to_stop_it_and_status_2(
    tmp_path: Path, earlier_launcher: int
) -> None:
    data = tmp_path / "data"
    _record(data / "airflow", earlier_launcher, {"scheduler": _dead_pid()})
    done = _launch(data, port=0)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"ctwatch: an earlier `make run` of {data / 'airflow'} is still running"
        f" (launcher {earlier_launcher}): stop it with Ctrl-C in its terminal or `kill {earlier_launcher}`"
    )


def test_components_left_by_a_killed_launcher_are_named_with_their_pids(tmp_path: Path) -> None:
    guard = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", "-m", "ctwatch_airflow.component_guard"]
    )
    try:
        _record(tmp_path / "airflow", _dead_pid(), {"scheduler": guard.pid})
        message = earlier_instance(
            Layout(tmp_path, tmp_path / "airflow", tmp_path / "w.duckdb", "127.0.0.1", 0)
        )
    finally:
        guard.kill()
        guard.wait()
    assert message is not None
    assert f"(scheduler {guard.pid}): stop it with `kill {guard.pid}` (its launcher is gone)" in message


def test_a_pid_file_whose_processes_are_gone_or_not_ours_is_removed(tmp_path: Path) -> None:
    not_ours = os.getpid()  # alive, but pytest is no launcher
    pid_file = _record(tmp_path / "airflow", _dead_pid(), {"scheduler": not_ours})
    layout = Layout(tmp_path, tmp_path / "airflow", tmp_path / "w.duckdb", "127.0.0.1", 0)
    assert earlier_instance(layout) is None
    assert not pid_file.exists()


def test_a_taken_port_is_named_with_how_to_choose_another_and_status_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _launch(tmp_path / "data", port)
    assert done.returncode == 2, done.stdout + done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ctwatch: cannot listen on 127.0.0.1:{port} (Address already in use)"), last
    assert "`CTWATCH_PORT=8081 make run` (or the launcher's --port)" in last
    assert not (tmp_path / "data" / "airflow" / "launcher-pids.json").exists()


def test_a_component_is_started_again_until_it_exits_five_times_within_ten_minutes() -> None:
    budget = RestartBudget()
    assert [budget.allows("scheduler", t) for t in (0.0, 100.0, 200.0, 300.0)] == [True] * 4
    assert budget.allows("dag-processor", 350.0)  # counted per component
    assert not budget.allows("scheduler", 400.0)  # the fifth exit within 600 s

    spaced = RestartBudget()
    assert all(spaced.allows("scheduler", t) for t in (0.0, 200.0, 400.0, 599.0, 800.0, 1000.0))


STOPPABLE = """
import time
from ctwatch_airflow.launcher import StopRequested, raise_on_stop_signals
raise_on_stop_signals()
try:
    print("waiting", flush=True)
    time.sleep(60)
except StopRequested as stop:
    print(f"stopping on {stop}", flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_a_launcher_even_started_with_sigint_ignored(signum: signal.Signals) -> None:
    process = subprocess.Popen(
        [*SIGINT_IGNORED, sys.executable, "-c", STOPPABLE], env={**os.environ, "PYTHONPATH": PYTHONPATH},
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline() == "waiting\n"
    process.send_signal(signum)
    out, _ = process.communicate(timeout=30)
    assert (process.returncode, out) == (0, f"stopping on {signum.name}\n")
