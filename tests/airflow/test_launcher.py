"""`make run`'s launcher, for real: Airflow comes up on loopback only, lists the DAGs, stops on Ctrl-C,
and leaves nothing running when the launcher itself is killed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any

import psutil
import pytest

from ctwatch_airflow.component_guard import GRACE_S
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]
START_TIMEOUT_S = 240.0
KILLED_LAUNCHER_CLEANUP_S = GRACE_S + 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _api(url: str, token: str | None = None, body: dict[str, str | None] | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _wait_for_line(process: subprocess.Popen[str], marker: str, lines: list[str]) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line)
        if marker in line:
            return line
    pytest.fail(f"launcher did not print {marker!r}; output:\n{''.join(lines)}")


def _start_launcher(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CTWATCH_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": f"{REPO_ROOT / 'include'}{os.pathsep}{REPO_ROOT / 'plugins'}",
    }
    for key in [k for k in env if k.startswith("AIRFLOW")]:
        del env[key]  # the launcher must set up its own Airflow, not inherit the test one
    return subprocess.Popen(
        [sys.executable, "-m", "ctwatch_airflow.launcher", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_make_run_launcher_serves_dags_on_loopback_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    launcher = _start_launcher(tmp_path, port)
    lines: list[str] = []
    children: list[psutil.Process] = []
    try:
        banner = _wait_for_line(launcher, "ctwatch is running", lines)
        assert f"http://127.0.0.1:{port}" in banner
        base = f"http://127.0.0.1:{port}"
        token = _token(base, banner)
        _wait_for_dag(base, token, "evaluate_rules")
        assert _api(f"{base}/api/v2/importErrors", token)["total_entries"] == 0
        pools = {pool["name"]: pool["slots"] for pool in _api(f"{base}/api/v2/pools", token)["pools"]}
        assert pools["warehouse"] == 1
        assert (tmp_path / "data" / "warehouse.duckdb").exists()

        children = psutil.Process(launcher.pid).children(recursive=True)
        listening = [
            conn.laddr
            for child in children
            for conn in _connections(child)
            if conn.status == psutil.CONN_LISTEN
        ]
        assert listening, "nothing listens"
        assert all(address.ip in ("127.0.0.1", "::1") for address in listening), listening
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(timeout=90)
        except subprocess.TimeoutExpired:
            launcher.kill()
            for child in children:
                child.kill()
            raise
    assert launcher.returncode == 0, "".join(lines)
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"still running after Ctrl-C: {[p.pid for p in alive]}"


def _connections(process: psutil.Process) -> list[Any]:
    try:
        return list(process.net_connections(kind="inet"))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def _token(base: str, banner: str) -> str:
    password = banner.split("login: admin / ")[1].split(")", maxsplit=1)[0]
    token: str = _api(f"{base}/auth/token", body={"username": "admin", "password": password})["access_token"]
    return token


def _wait_for_dag(base: str, token: str, dag_id: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    dag_ids: set[str] = set()
    while time.monotonic() < deadline and dag_id not in dag_ids:
        dag_ids = {dag["dag_id"] for dag in _api(f"{base}/api/v2/dags", token)["dags"]}
        time.sleep(2)
    assert dag_id in dag_ids


def test_a_launcher_killed_with_sigkill_takes_every_component_and_task_with_it(tmp_path: Path) -> None:
    port = _free_port()
    launcher = _start_launcher(tmp_path, port)
    lines: list[str] = []
    processes: list[psutil.Process] = []
    try:
        base = f"http://127.0.0.1:{port}"
        token = _token(base, _wait_for_line(launcher, "ctwatch is running", lines))
        _wait_for_dag(base, token, "evaluate_rules")
        _api(f"{base}/api/v2/dags/evaluate_rules/dagRuns", token, body={"logical_date": None})
        processes = _descendants_once_a_task_runs(psutil.Process(launcher.pid))
        launcher.kill()
        launcher.wait()
        _gone, alive = psutil.wait_procs(processes, timeout=KILLED_LAUNCHER_CLEANUP_S)
        assert not alive, f"outlived the launcher: {[(p.pid, _title(p)) for p in alive]}"
    finally:
        launcher.kill()
        for process in processes:
            with suppress(psutil.NoSuchProcess):
                process.kill()


def _descendants_once_a_task_runs(launcher: psutil.Process) -> list[psutil.Process]:
    """Every process below the launcher once a task process runs: the task supervisor's child
    (`airflow worker -- <task id>`), in a process group of its own."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        processes = launcher.children(recursive=True)
        titles = [_title(p) for p in processes]
        if any(t.startswith("airflow worker -- ") and "LocalExecutor" not in t for t in titles):
            return processes
        time.sleep(0.1)
    pytest.fail(f"no task ran; processes: {titles}")


def _title(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return ""
