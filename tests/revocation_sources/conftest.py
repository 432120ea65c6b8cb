"""The packaged small simulator scenario, served on 127.0.0.1 for the source and DAG tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ctwatch.revocation.config import SourceLocations
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning

SMALL = Path(__file__).parents[2] / "include" / "ctwatch" / "sim" / "scenarios" / "small.toml"


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorRunning]:
    with SimulatorRunning(load_scenario(SMALL), cache_dir=tmp_path_factory.mktemp("sim-cache")) as running:
        yield running


def sim_locations(sim: SimulatorRunning) -> SourceLocations:
    return SourceLocations(
        **sim.source_urls(),
        simulated=True,
        url_rewrite=sim.url_rewrite(),
        requests_per_second=1000.0,
        timeout_s=10.0,
    )
