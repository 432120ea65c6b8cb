"""certspotter (Debian package, SSLMate) tails the simulated RFC 6962 log to its end without errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ctwatch.bench.ingest import install_certspotter
from ctwatch.sim.scenario import Scenario
from ctwatch.sim.server import SimulatorRunning

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MISSING = "certspotter is not installed and cannot be installed here (apt-get install certspotter, as root)"


@pytest.fixture(scope="module")
def certspotter() -> str:
    """certspotter's path, installed with apt-get when missing; CI must not pass by skipping it."""
    found = install_certspotter()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    return found


def _state_size(state_dir: Path) -> int | None:
    states = list((state_dir / "logs").glob("*/state.json"))
    if not states:
        return None
    size: int = json.loads(states[0].read_text())["verified_position"]["size"]
    return size


def test_certspotter_tails_the_log_to_its_end(
    certspotter: str, small_scenario: Scenario, sim_cache: Path, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    watchlist = tmp_path / "watchlist"
    watchlist.write_text(".corp.example\n")
    # present_sth="now": the head certspotter polls carries the real current time, like a live log.
    with SimulatorRunning(small_scenario, cache_dir=sim_cache, present_sth="now") as sim:
        log_list = sim.write_log_list(tmp_path / "logs.json")
        expected = sim.world.logs["sim-argon"].size
        command = [
            certspotter,
            "-logs",
            str(log_list),
            "-state_dir",
            str(state_dir),
            "-watchlist",
            str(watchlist),
            "-stdout",
            "-no_save",
            "-verbose",
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _state_size(state_dir) != expected and process.poll() is None:
            time.sleep(0.5)
        process.send_signal(signal.SIGTERM)  # certspotter 0.16 is a daemon: it runs until told to stop
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert _state_size(state_dir) == expected
    # The only "error" line is the cancellation caused by SIGTERM; nothing about the log itself.
    problems = [
        line
        for line in stderr.splitlines()
        if any(w in line.lower() for w in ("error", "fail", "invalid", "mismatch"))
        and "context canceled" not in line
    ]
    assert problems == []
    assert f"in range [0, {expected})" in stderr
    assert not any((state_dir / "healthchecks").iterdir())
    # Matches on the watch list: the technically constrained CA's leaves (example-tc, 50 in sim-argon).
    assert stdout.count("Issuer = C=XX, O=Example Trust, CN=Sim Example Constrained CA") == 50
