"""The component guard ends a component and everything it started once the launcher is gone, even
processes that ignore SIGTERM or left the component's session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ctwatch_airflow.component_guard import GRACE_S
from tests.conftest import REPO_ROOT

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the guard is Linux only"),
    pytest.mark.slow,
]
PYTHONPATH = f"{REPO_ROOT / 'include'}{os.pathsep}{REPO_ROOT / 'plugins'}"
# A component that ignores SIGTERM and starts a task in a session of its own, which does too.
STUBBORN_COMPONENT = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
task = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
subprocess.Popen([sys.executable, "-c", task], start_new_session=True)
time.sleep(600)
"""
# A stand-in launcher: starts the guard as the launcher does, prints its PID, waits to be killed.
LAUNCHER = """
import os, subprocess, sys, time
guard = [sys.executable, "-m", "ctwatch_airflow.component_guard", str(os.getpid())]
print(subprocess.Popen([*guard, *sys.argv[1:]], start_new_session=True).pid, flush=True)
time.sleep(600)
"""


def _descendants_once_started(root: psutil.Process, count: int) -> list[psutil.Process]:
    deadline = time.monotonic() + 30
    while len(found := root.children(recursive=True)) < count:
        assert time.monotonic() < deadline, f"only {found} started"
        time.sleep(0.1)
    return found


def test_a_killed_launcher_takes_a_stubborn_component_and_its_detached_task_with_it() -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-c", STUBBORN_COMPONENT],
        env={**os.environ, "PYTHONPATH": PYTHONPATH},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert launcher.stdout is not None
    guard = psutil.Process(int(launcher.stdout.readline()))
    processes = [guard, *_descendants_once_started(guard, count=2)]
    try:
        launcher.kill()
        launcher.wait()
        _gone, alive = psutil.wait_procs(processes, timeout=GRACE_S + 10)
        assert not alive, f"outlived the launcher: {alive}"
    finally:
        for process in processes:
            if process.is_running():
                process.kill()


def test_a_component_that_exits_takes_its_leftovers_along_and_its_status_is_the_guards(
    tmp_path: Path,
) -> None:
    task_pid_file = tmp_path / "task.pid"
    component = (
        "import subprocess, sys\n"
        "task = [sys.executable, '-c', 'import time; time.sleep(600)']\n"
        "task = subprocess.Popen(task, start_new_session=True)\n"
        f"open({str(task_pid_file)!r}, 'w').write(str(task.pid))\n"
        "sys.exit(3)\n"
    )
    guard = subprocess.run(
        [
            sys.executable,
            "-m",
            "ctwatch_airflow.component_guard",
            str(os.getpid()),
            sys.executable,
            "-c",
            component,
        ],
        env={**os.environ, "PYTHONPATH": PYTHONPATH},
        timeout=GRACE_S + 10,
        check=False,
    )
    assert guard.returncode == 3
    assert not psutil.pid_exists(int(task_pid_file.read_text()))


def test_a_stop_request_ends_the_component_and_reports_the_signal() -> None:
    guard = subprocess.Popen(
        [sys.executable, "-m", "ctwatch_airflow.component_guard", str(os.getpid()), "/bin/sleep", "600"],
        env={**os.environ, "PYTHONPATH": PYTHONPATH},
    )
    component = _descendants_once_started(psutil.Process(guard.pid), count=1)[0]
    guard.send_signal(signal.SIGTERM)
    assert guard.wait(timeout=GRACE_S + 10) == 128 + signal.SIGTERM
    assert not component.is_running()
