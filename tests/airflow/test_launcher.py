"""`make run`'s launcher, for real: Airflow comes up on loopback only, lists the DAGs, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]
START_TIMEOUT_S = 240.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _api(url: str, token: str | None = None, body: dict[str, str] | None = None) -> Any:
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


def test_make_run_launcher_serves_dags_on_loopback_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "CTWATCH_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": f"{REPO_ROOT / 'include'}{os.pathsep}{REPO_ROOT / 'plugins'}",
    }
    for key in [k for k in env if k.startswith("AIRFLOW")]:
        del env[key]  # the launcher must set up its own Airflow, not inherit the test one
    launcher = subprocess.Popen(
        [sys.executable, "-m", "ctwatch_airflow.launcher", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    children: list[psutil.Process] = []
    try:
        banner = _wait_for_line(launcher, "ctwatch is running", lines)
        assert f"http://127.0.0.1:{port}" in banner
        password = banner.split("login: admin / ")[1].split(")")[0]
        base = f"http://127.0.0.1:{port}"
        token = _api(f"{base}/auth/token", body={"username": "admin", "password": password})["access_token"]

        deadline = time.monotonic() + START_TIMEOUT_S
        dag_ids: set[str] = set()
        while time.monotonic() < deadline and "evaluate_rules" not in dag_ids:
            dag_ids = {dag["dag_id"] for dag in _api(f"{base}/api/v2/dags", token)["dags"]}
            time.sleep(2)
        assert "evaluate_rules" in dag_ids
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
