"""Resources running out: a staging folder that fills mid-fetch, the warehouse's volume
full mid-load, a CRL over the configured cap, a log serving an endless body. Each ends as a failed
step whose message names the resource, with nothing half-stored and nothing recorded against a
source that did no wrong; the next run, the resource back, ends as an undisturbed run would.

A full disk is a small tmpfs mounted for the test (root, as in CI); where mounting is impossible the
test skips, except under CI=true, where it fails."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from ctwatch import warehouse
from ctwatch.config import settings_from
from ctwatch.evidence.health import CT_LOG
from ctwatch.ingest import IngestConfig, discover_logs, fetch_range, ingest_once, load_ranges, plan_ranges
from ctwatch.revocation import watched_crls
from ctwatch.revocation.config import SourceLocations
from ctwatch.sim.faults import Fault, FaultKind
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from ctwatch.sources.http import FetchError
from ctwatch.sources.staging import StagingError
from ctwatch.warehouse import WarehouseFullError
from tests.conftest import REPO_ROOT
from tests.ingest.conftest import (
    AS_OF,
    SMALL,
    fast_config,
    staged_ranges,
    store_world_ca_certs,
    warehouse_rows,
)
from tests.services import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.integration]
# Columns the database fills with the wall clock of the insert: not evidence, never equal twice.
WALL_CLOCK = frozenset(
    {"stored_at", "recorded_at", "ingested_at", "enqueued_at", "evaluated_at", "applied_at"}
)
# The simulator signs each tree head it serves anew, and ECDSA signatures differ every time.
RESIGNED = frozenset({("ct_tree_heads", "signature")})
SECOM_CRLS = tuple(f"http://crl.secom.example/secom-root{suffix}.crl" for suffix in ("", "-p0", "-p1"))
CRL_AS_OF = datetime(2020, 7, 20, 4, tzinfo=UTC)
MIB = 1024 * 1024
CTWATCH = Path(sys.executable).parent / "ctwatch"


# -- full disks --


@contextmanager
def small_volume(folder: Path, size: str) -> Iterator[Path]:
    """`folder` as a fresh tmpfs of `size` (e.g. "8m"), unmounted afterwards whatever happened."""
    folder.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]
    try:
        mounted = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        unavailable(f"cannot run mount: {exc}")
    if mounted.returncode != 0:
        unavailable(f"cannot mount a {size} tmpfs on {folder} (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def fill(volume: Path, *, leave_bytes: int = 0) -> Path:
    """A file taking every free byte of `volume` but `leave_bytes`."""
    stats = os.statvfs(volume)
    filler = volume / "filler"
    filler.write_bytes(bytes(stats.f_bavail * stats.f_frsize - leave_bytes))
    stats = os.statvfs(volume)
    assert stats.f_bavail * stats.f_frsize <= leave_bytes
    return filler


# -- what the warehouse holds --


def contents(warehouse_file: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, without the wall-clock columns and the simulator's fresh signatures."""
    con = duckdb.connect(str(warehouse_file), read_only=True)
    try:
        columns: dict[str, list[str]] = {}
        listed = con.execute(
            "SELECT c.table_name, c.column_name FROM duckdb_columns() AS c"
            " JOIN duckdb_tables() AS t USING (schema_name, table_name) ORDER BY c.table_name, c.column_index"
        ).fetchall()
        for table, column in listed:
            if column not in WALL_CLOCK and (table, column) not in RESIGNED:
                columns.setdefault(table, []).append(f'"{column}"')
        return {
            table: con.execute(f'SELECT {", ".join(names)} FROM "{table}" ORDER BY ALL').fetchall()
            for table, names in columns.items()
        }
    finally:
        con.close()


def covered(warehouse_file: Path) -> dict[str, int]:
    return dict(
        warehouse_rows(
            warehouse_file, "SELECT log_id, sum(end_exclusive - start_index) FROM ct_log_coverage GROUP BY 1"
        )
    )


# -- the simulated world --


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorRunning]:
    with SimulatorRunning(load_scenario(SMALL), cache_dir=tmp_path_factory.mktemp("sim-cache")) as running:
        yield running


@pytest.fixture
def healthy_sim(sim: SimulatorRunning) -> Iterator[SimulatorRunning]:
    """The simulator, its faults cleared after the test."""
    yield sim
    for name in [*sim.world.logs, "crl"]:
        sim.set_faults(name, [])


@pytest.fixture
def log_list(sim: SimulatorRunning, tmp_path: Path) -> Path:
    return sim.write_log_list(tmp_path / "log_list.json")


def all_sizes(sim: SimulatorRunning) -> dict[str, int]:
    return {log.log_id.hex(): log.size for log in sim.world.logs.values()}


def plan(config: IngestConfig, warehouse_file: Path, run_dir: Path) -> list[dict[str, int | str]]:
    discovery = discover_logs(config, run_dir)
    return plan_ranges(
        warehouse_file,
        discovery,
        new_logs_start=config.new_logs_start,
        min_range_entries=config.min_range_entries,
    )


def fetch(job: dict[str, int | str]) -> Path:
    return fetch_range(
        Path(str(job["plan_file"])), int(job["log_position"]), int(job["start"]), int(job["end_exclusive"])
    )


def crl_locations(sim: SimulatorRunning, **crl: object) -> SourceLocations:
    """The simulator's own ctwatch.toml, with `crl` set in its [sources.crl] table."""
    document = tomllib.loads(sim.config_toml(f"{sim.base_url}/log_list.json"))
    document["sources"].setdefault("crl", {}).update(crl)
    return settings_from(document).sources


def crl_warehouse(sim: SimulatorRunning, path: Path) -> Path:
    """A warehouse holding the world's CA certificates, so CRL signatures are checked."""
    con = warehouse.connect(path)
    try:
        store_world_ca_certs(con, sim.world)
    finally:
        con.close()
    return path


def secom_targets(sim: SimulatorRunning) -> list[watched_crls.CrlTarget]:
    root = sim.world.ca_certs["secom-root"].der_sha256
    return [watched_crls.CrlTarget(url, root, ("test",)) for url in SECOM_CRLS]


# -- the staging folder fills mid-fetch --


def test_a_ct_staging_folder_that_fills_mid_fetch_fails_the_fetch_blaming_no_log_and_the_next_run_recovers(
    healthy_sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    config = fast_config(log_list, request_as_of=AS_OF)
    disturbed, undisturbed = tmp_path / "disturbed.duckdb", tmp_path / "undisturbed.duckdb"
    with small_volume(tmp_path / "volume", "1m") as volume:
        run_dir = volume / "staging"
        jobs = plan(config, disturbed, run_dir)
        filler = fill(volume)
        for job in jobs:
            with pytest.raises(StagingError) as full:
                fetch(job)
            assert str(full.value).startswith(f"staging folder {run_dir / 'ranges'}: no space left on device")
        assert list((run_dir / "ranges").iterdir()) == []  # nothing half written
        assert not (run_dir / "failures").exists()  # no evidence against the logs: they did nothing wrong
        # the run's load (the DAG runs it whatever its fetches did) stores nothing and blames no log
        load_ranges(disturbed, [], as_of=AS_OF, run_dir=run_dir)
        assert covered(disturbed) == {}
        ct_checks = "SELECT count(*) FROM source_checks WHERE source = $s"
        assert warehouse_rows(disturbed, ct_checks, {"s": CT_LOG}) == [(0,)]
        assert warehouse_rows(disturbed, "SELECT count(*) FROM ct_verification_failures") == [(0,)]

        filler.unlink()
        ingest_once(disturbed, config, run_dir, as_of=AS_OF)
        assert not run_dir.exists()
    ingest_once(undisturbed, config, tmp_path / "run", as_of=AS_OF)
    assert covered(disturbed) == all_sizes(healthy_sim)
    assert contents(disturbed) == contents(undisturbed)


def test_a_crl_staging_folder_that_fills_mid_fetch_fails_the_fetch_recording_nothing_against_the_ca(
    healthy_sim: SimulatorRunning, tmp_path: Path
) -> None:
    locations = crl_locations(healthy_sim)
    targets = watched_crls.targets_to_json(secom_targets(healthy_sim))
    as_of_header = {"X-Ctwatch-As-Of": CRL_AS_OF.isoformat()}
    first_crl = requests.get(locations.rewrite(SECOM_CRLS[0]), headers=as_of_header, timeout=10).content
    warehouse_file = crl_warehouse(healthy_sim, tmp_path / "warehouse.duckdb")
    with small_volume(tmp_path / "volume", "1m") as volume:
        crl_dir = volume / "crl"
        crl_dir.mkdir()
        archived = crl_dir / f"{'0' * 64}.crl"  # the raw file of a version archived by an earlier run
        archived.write_bytes(b"an archived CRL")
        # room for the first CRL (tmpfs counts whole pages), none for the second
        filler = fill(volume, leave_bytes=math.ceil(len(first_crl) / 4096) * 4096)
        with pytest.raises(StagingError) as full:
            watched_crls.stage_crls(targets, crl_dir, locations, as_of=CRL_AS_OF, manifest_name="first")
        assert str(full.value).startswith(f"staging folder {crl_dir}: no space left on device")
        # the first CRL's staged file is removed, no part file or manifest is left, the archived file stays
        assert list(crl_dir.iterdir()) == [archived]

        filler.unlink()
        manifest = watched_crls.stage_crls(targets, crl_dir, locations, as_of=CRL_AS_OF, manifest_name="next")
        summary = watched_crls.archive_manifest(warehouse_file, manifest, as_of=CRL_AS_OF, crl_dir=crl_dir)
    assert (summary.errors, summary.new_versions) == ((), len(SECOM_CRLS))
    failed_fetches = "SELECT count(*) FROM crl_fetches WHERE error IS NOT NULL"
    assert warehouse_rows(warehouse_file, failed_fetches) == [(0,)]
    assert warehouse_rows(warehouse_file, "SELECT count(*) FROM source_checks WHERE NOT ok") == [(0,)]


def test_ctwatch_ct_ingest_names_the_full_staging_folder_in_one_line(
    healthy_sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    with small_volume(tmp_path / "volume", "2m") as volume:
        warehouse_file = volume / "warehouse.duckdb"
        warehouse.connect(warehouse_file).close()
        fill(volume)
        env = {**os.environ, "CTWATCH_CT_LOG_LIST": str(log_list), "CTWATCH_CT_NEW_LOGS_START": "origin"}
        command = [str(CTWATCH), "ct", "ingest", "--warehouse", str(warehouse_file)]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    staging = volume / "staging" / "cli"
    assert line.startswith(
        f"ctwatch ct ingest: staging folder {staging}: no space left on device (writing discovery.msgpack)"
    )


# -- the warehouse's volume is full mid-load --


def test_a_warehouse_volume_full_mid_load_fails_the_load_naming_it_rolls_back_and_the_next_load_recovers(
    healthy_sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    config = fast_config(log_list, request_as_of=AS_OF)
    undisturbed = tmp_path / "undisturbed.duckdb"
    load_ranges(undisturbed, staged_ranges(config, undisturbed, tmp_path / "undisturbed-run"), as_of=AS_OF)
    with small_volume(tmp_path / "volume", "8m") as volume:
        warehouse_file = volume / "warehouse.duckdb"
        staged = staged_ranges(config, warehouse_file, tmp_path / "run")
        before = contents(warehouse_file)
        # the load writes about 2.4 MB to the warehouse: a quarter of a megabyte is too little
        filler = fill(volume, leave_bytes=MIB // 4)
        with pytest.raises(WarehouseFullError) as full:
            load_ranges(warehouse_file, staged, as_of=AS_OF)
        assert str(full.value).startswith(f"warehouse {warehouse_file}: no space left on its volume")
        assert not full.value.committed
        assert all(path.exists() for path in staged)  # kept for the next try
        filler.unlink()
        assert contents(warehouse_file) == before  # nothing half-committed

        load_ranges(warehouse_file, staged, as_of=AS_OF)
        assert covered(warehouse_file) == all_sizes(healthy_sim)
        assert contents(warehouse_file) == contents(undisturbed)


# -- a CRL over the cap, endless or trickling --


@pytest.mark.parametrize(
    ("settings", "fault", "failed"),
    [
        ({"max_body_bytes": 100}, None, "exceeds the cap of 100 bytes ([sources.crl] max_body_bytes)"),
        (
            {"max_body_bytes": MIB},
            Fault(FaultKind.ENDLESS_BODY, first=len(SECOM_CRLS)),
            f"exceeds the cap of {MIB} bytes ([sources.crl] max_body_bytes): stopped reading",
        ),
        (
            {"response_deadline_s": 1.0},
            Fault(FaultKind.ENDLESS_BODY, first=len(SECOM_CRLS), bytes_per_second=50),
            "not complete after 1 s ([sources.crl] response_deadline_s",
        ),
    ],
    ids=["over-the-cap", "endless", "trickling"],
)
def test_a_crl_over_the_cap_or_deadline_is_a_failed_fetch_naming_the_setting_and_the_next_run_recovers(
    healthy_sim: SimulatorRunning,
    tmp_path: Path,
    settings: dict[str, object],
    fault: Fault | None,
    failed: str,
) -> None:
    warehouse_file = crl_warehouse(healthy_sim, tmp_path / "warehouse.duckdb")
    crl_dir = tmp_path / "crl"
    if fault is not None:
        healthy_sim.set_faults("crl", [fault])
    started = time.monotonic()
    capped = crl_locations(healthy_sim, **settings)
    staged = watched_crls.fetch_crls(secom_targets(healthy_sim), crl_dir, capped, as_of=CRL_AS_OF)
    assert time.monotonic() - started < 10 * len(SECOM_CRLS)
    summary = watched_crls.archive_crls(warehouse_file, staged, as_of=CRL_AS_OF, crl_dir=crl_dir)
    # the DAG's crl_archive task fails with these (every one recorded as a failed fetch of its URL)
    assert [error.split(": ", 1)[0] for error in summary.errors] == list(SECOM_CRLS)
    assert all(failed in error for error in summary.errors), summary.errors
    assert list(crl_dir.glob("*.crl")) == list(crl_dir.glob("*.part")) == []
    assert warehouse_rows(warehouse_file, "SELECT count(*) FROM crl_versions") == [(0,)]

    # the next run, four hours later, with the settings' defaults and a well-behaved server
    later = CRL_AS_OF + timedelta(hours=4)
    staged = watched_crls.fetch_crls(
        secom_targets(healthy_sim), crl_dir, crl_locations(healthy_sim), as_of=later
    )
    summary = watched_crls.archive_crls(warehouse_file, staged, as_of=later, crl_dir=crl_dir)
    assert (summary.errors, summary.new_versions) == ((), len(SECOM_CRLS))


# -- a log serving an endless body --


@dataclass(frozen=True)
class Endless:
    log_name: str
    endpoint: str
    bytes_per_second: int  # 0: as fast as read; else a trickle
    failed: str  # what the error says


OVER_CAP = f"body larger than {MIB} bytes ([ct] max_body_bytes): stopped reading"


@pytest.mark.parametrize(
    "case",
    [
        Endless("sim-argon", "get-entries", 0, OVER_CAP),
        Endless("sim-tiles", "data-tile", 0, OVER_CAP),
        Endless("sim-argon", "get-entries", 50, "answer not complete after 2 s ([ct] response_deadline_s;"),
    ],
    ids=["rfc6962-endless", "static-ct-endless", "rfc6962-trickling"],
)
def test_a_log_serving_an_endless_body_fails_the_range_at_the_cap_or_deadline_and_the_next_run_recovers(
    healthy_sim: SimulatorRunning, log_list: Path, tmp_path: Path, case: Endless
) -> None:
    log_name, failed = case.log_name, case.failed
    log_id = healthy_sim.world.logs[log_name].log_id.hex()
    config = fast_config(
        log_list,
        request_as_of=AS_OF,
        log_ids=(log_id,),
        batch_size=100,
        max_body_bytes=MIB,
        response_deadline_s=2.0,
    )
    warehouse_file = tmp_path / "warehouse.duckdb"
    run_dir = tmp_path / "run"
    jobs = plan(config, warehouse_file, run_dir)
    healthy_sim.set_faults(
        log_name,
        [
            Fault(
                FaultKind.ENDLESS_BODY,
                first=1,
                endpoints=frozenset({case.endpoint}),
                bytes_per_second=case.bytes_per_second,
            )
        ],
    )
    started = time.monotonic()
    with pytest.raises(FetchError) as refused:
        fetch(jobs[0])
    assert time.monotonic() - started < 15
    assert failed in str(refused.value)
    assert refused.value.url.startswith(healthy_sim.log_url(log_name))
    assert refused.value.attempts == 1  # an endless answer is not asked for again in the same run
    # the log served it: the refusal is evidence about the log, and its health says why
    load_ranges(warehouse_file, [], as_of=AS_OF, run_dir=run_dir)
    fetch_failures = "SELECT detail FROM ct_verification_failures WHERE kind = 'fetch'"
    (detail,) = warehouse_rows(warehouse_file, fetch_failures)
    assert failed in detail[0]
    ((ok, failure),) = warehouse_rows(
        warehouse_file, "SELECT ok, failure FROM source_checks WHERE target = $log", {"log": log_id}
    )
    assert not ok
    assert failed in failure

    healthy_sim.set_faults(log_name, [])
    ingest_once(warehouse_file, config, tmp_path / "next", as_of=AS_OF)
    assert covered(warehouse_file) == {log_id: healthy_sim.world.logs[log_name].size}


# -- through Airflow: the failed task, then the next run --


def ingest_ct_logs_dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "ingest_ct_logs.py")).dags["ingest_ct_logs"]
    for task in dag.tasks:
        task.retries = 0  # the next run is the retry here; dag.test() would wait minutes
    return dag


def test_ingest_ct_logs_fails_the_fetch_tasks_of_a_log_serving_an_endless_body_and_the_next_run_recovers(
    airflow_db: None,
    healthy_sim: SimulatorRunning,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    warehouse_file = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CTWATCH_WAREHOUSE", str(warehouse_file))
    monkeypatch.setenv("CTWATCH_DATA_DIR", str(tmp_path / "data"))
    dag = ingest_ct_logs_dag()
    log_list = healthy_sim.write_log_list(tmp_path / "log_list.json")
    conf = {
        "log_list": str(log_list),
        "new_logs_start": "origin",
        "min_range_entries": 1000,
        "requests_per_second": 1000.0,
        "batch_size": 100,
        "max_body_bytes": MIB,
    }
    argon = healthy_sim.world.logs["sim-argon"]
    healthy_sim.set_faults(
        "sim-argon", [Fault(FaultKind.ENDLESS_BODY, every=1, endpoints=frozenset({"get-entries"}))]
    )
    first = dag.test(logical_date=datetime(2026, 11, 27, 12, tzinfo=UTC), run_conf=conf)
    fetches = [ti for ti in first.get_task_instances() if ti.task_id == "fetch"]
    argon_ranges = math.ceil(argon.size / 1000)
    assert sorted(str(ti.state) for ti in fetches) == sorted(
        ["failed"] * argon_ranges + ["success"] * (len(fetches) - argon_ranges)
    )
    assert {ti.task_id: str(ti.state) for ti in first.get_task_instances() if ti.task_id != "fetch"} == {
        "discover": "success",
        "plan": "success",
        "load": "success",  # the other log's ranges are stored
    }
    reasons = warehouse_rows(
        warehouse_file,
        "SELECT detail FROM ct_verification_failures WHERE log_id = $log",
        {"log": argon.log_id.hex()},
    )
    assert len(reasons) == argon_ranges
    assert all(f"body larger than {MIB} bytes ([ct] max_body_bytes)" in reason for (reason,) in reasons)
    failed = f"FetchError: {healthy_sim.log_url('sim-argon')}ct/v1/get-entries: body larger than {MIB} bytes"
    assert capsys.readouterr().out.count(failed) == argon_ranges
    assert argon.log_id.hex() not in covered(warehouse_file)

    healthy_sim.set_faults("sim-argon", [])
    again = dag.test(logical_date=datetime(2026, 11, 27, 12, 15, tzinfo=UTC), run_conf=conf)
    assert again.state == "success"
    assert covered(warehouse_file) == all_sizes(healthy_sim)
    assert not any((tmp_path / "data" / "staging" / "ingest_ct_logs").iterdir())


def test_ingest_ct_logs_fails_the_load_when_the_warehouse_volume_is_full_and_the_next_run_recovers(
    airflow_db: None,
    healthy_sim: SimulatorRunning,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dag = ingest_ct_logs_dag()
    log_list = healthy_sim.write_log_list(tmp_path / "log_list.json")
    conf = {
        "log_list": str(log_list),
        "new_logs_start": "origin",
        "min_range_entries": 1000,
        "requests_per_second": 1000.0,
    }
    staging = tmp_path / "data" / "staging" / "ingest_ct_logs"
    monkeypatch.setenv("CTWATCH_DATA_DIR", str(tmp_path / "data"))
    with small_volume(tmp_path / "volume", "8m") as volume:
        warehouse_file = volume / "warehouse.duckdb"
        monkeypatch.setenv("CTWATCH_WAREHOUSE", str(warehouse_file))
        warehouse.connect(warehouse_file).close()
        # room for the plan's few rows, not for the load's 2.4 MB
        filler = fill(volume, leave_bytes=MIB // 2)
        first = dag.test(logical_date=datetime(2026, 11, 27, 12, tzinfo=UTC), run_conf=conf)
        assert first.state == "failed"
        states = {ti.task_id: str(ti.state) for ti in first.get_task_instances()}
        assert states == {"discover": "success", "plan": "success", "fetch": "success", "load": "failed"}
        assert (
            f"WarehouseFullError: warehouse {warehouse_file}: no space left on its volume"
            in capsys.readouterr().out
        )
        assert covered(warehouse_file) == {}
        (left,) = staging.iterdir()  # the failed load's staged ranges, kept for a retry of it
        assert len(list((left / "ranges").iterdir())) == len(
            [ti for ti in first.get_task_instances() if ti.task_id == "fetch"]
        )

        filler.unlink()
        again = dag.test(logical_date=datetime(2026, 11, 27, 12, 15, tzinfo=UTC), run_conf=conf)
        assert again.state == "success"
        assert covered(warehouse_file) == all_sizes(healthy_sim)
        assert list(staging.iterdir()) == [left]  # only the failed run's folder: later runs never read it
