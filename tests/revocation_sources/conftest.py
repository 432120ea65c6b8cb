"""The packaged small simulator scenario, served on 127.0.0.1 for the source and DAG tests."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctwatch.config import settings_from
from ctwatch.revocation.config import SourceLocations
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning

SMALL = Path(__file__).parents[2] / "include" / "ctwatch" / "sim" / "scenarios" / "small.toml"


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorRunning]:
    with SimulatorRunning(load_scenario(SMALL), cache_dir=tmp_path_factory.mktemp("sim-cache")) as running:
        yield running


def sim_locations(sim: SimulatorRunning) -> SourceLocations:
    """What the simulator's own ctwatch.toml (`sim serve --write-config`) resolves to."""
    return settings_from(tomllib.loads(sim.config_toml(f"{sim.base_url}/log_list.json"))).sources
