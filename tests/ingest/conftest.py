"""Ingestion test helpers: the small simulated world served on 127.0.0.1, and its ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ctwatch import warehouse
from ctwatch.ingest import START_AT_ORIGIN, IngestConfig, discover_logs, fetch_range, plan_ranges
from ctwatch.sim.scenario import Scenario, load_scenario
from ctwatch.sim.server import SimulatorRunning
from ctwatch.sim.world import World
from ctwatch.x509 import ParsedCert, analyse_der
from tests.conftest import REPO_ROOT

SMALL = REPO_ROOT / "include" / "ctwatch" / "sim" / "scenarios" / "small.toml"
AS_OF = datetime(2026, 11, 27, 12, tzinfo=UTC)


@dataclass(frozen=True)
class TruthEntry:
    index: int
    leaf_hash: bytes
    issuer_spki_sha256: str
    precert: bool
    timestamp_ms: int


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    return load_scenario(SMALL)


@pytest.fixture(scope="session")
def sim_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ingest-sim-cache")


@pytest.fixture
def sim(small_scenario: Scenario, sim_cache: Path) -> Iterator[SimulatorRunning]:
    with SimulatorRunning(small_scenario, cache_dir=sim_cache) as running:
        yield running


@pytest.fixture
def log_list(sim: SimulatorRunning, tmp_path: Path) -> Path:
    return sim.write_log_list(tmp_path / "log_list.json")


def fast_config(log_list: Path, **overrides: Any) -> IngestConfig:
    """Read everything from index 0, in small ranges, without politeness delays."""
    values: dict[str, Any] = {
        "log_list": str(log_list),
        "new_logs_start": START_AT_ORIGIN,
        "min_range_entries": 500,
        "requests_per_second": float("inf"),
    }
    values.update(overrides)
    return IngestConfig(**values)


def staged_ranges(config: IngestConfig, warehouse_file: Path, run_dir: Path) -> list[Path]:
    """Every range of the logs discovered, planned and fetched to staged files, not loaded (what
    the DAG's tasks before `load` do)."""
    discovery = discover_logs(config, run_dir)
    jobs = plan_ranges(
        warehouse_file,
        discovery,
        new_logs_start=config.new_logs_start,
        min_range_entries=config.min_range_entries,
    )
    positions = ("log_position", "start", "end_exclusive")
    return [fetch_range(Path(str(job["plan_file"])), *(int(job[k]) for k in positions)) for job in jobs]


def ca_spki(world: World) -> dict[str, str]:
    """CA certificate id -> spki_sha256 hex, from the simulator's ground truth."""
    return {ca["cert_id"]: ca["spki_sha256"] for ca in world.ground_truth()["ca_certificates"]}


def truth(world: World, log_name: str) -> list[TruthEntry]:
    """Every entry of a simulated log with the facts ingestion must find."""
    spki = ca_spki(world)
    log = world.logs[log_name]
    entries = []
    for index in range(log.size):
        template = log.template_of(index)
        entries.append(
            TruthEntry(
                index,
                log.leaf_hash(index),
                spki[template.issuer_cert_id],
                template.precert,
                log.record(index).timestamp_ms,
            )
        )
    return entries


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    return con.execute(sql, params or {}).fetchall()


def warehouse_rows(
    warehouse_file: Path, sql: str, params: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """`rows` of the warehouse file, opened read-only for the one query."""
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        return rows(con, sql, params)
    finally:
        con.close()


def store_world_ca_certs(con: duckdb.DuckDBPyConnection, world: World) -> None:
    """The world's CA certificates into the warehouse: issuers for signature checks, and notAfter."""
    parsed = [analyse_der(cert.der) for cert in world.ca_certs.values()]
    warehouse.store_certificates(con, [c for c in parsed if isinstance(c, ParsedCert)], source="sim")


def earliest_sightings(world: World) -> set[tuple[str, str, int, int]]:
    """(der_sha256, log_id, entry_index, timestamp_ms) per CA certificate and log: the entry with the
    earliest CT timestamp (then the lowest index) whose chain carries it."""
    earliest: dict[tuple[str, str], tuple[int, int]] = {}
    for log in world.logs.values():
        log_id = log.log_id.hex()
        for index in range(log.size):
            timestamp_ms = log.record(index).timestamp_ms
            for cert_id in log.template_of(index).chain_ids:
                key = (world.ca_certs[cert_id].der_sha256, log_id)
                earliest[key] = min(earliest.get(key, (timestamp_ms, index)), (timestamp_ms, index))
    return {(sha, log_id, index, ms) for (sha, log_id), (ms, index) in earliest.items()}


def stored_sightings(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str, int, int]]:
    return set(
        rows(
            con,
            "SELECT der_sha256, log_id, entry_index, epoch_ms(entry_timestamp) FROM certificate_ct_sightings",
        )
    )
