"""ingest_revocations and ingest_crtsh with dag.test() against the simulator started here, as of
dates inside the scenario period; what they stored is checked against the world's ground truth."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ctwatch import rule_runs, warehouse
from ctwatch.config import load_settings
from ctwatch.revocation.daily_lists import ingest_daily_lists
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from tests.conftest import REPO_ROOT
from tests.ingest.conftest import store_world_ca_certs, warehouse_rows

pytestmark = pytest.mark.integration
SMALL = REPO_ROOT / "include" / "ctwatch" / "sim" / "scenarios" / "small.toml"
FULL = "http://crl.secom.example/secom-root.crl"
P0 = "http://crl.secom.example/secom-root-p0.crl"
# Data interval ends (= as-of) of two ingest_revocations runs around SECOM's backdated revocation:
# the first holds 00:00 UTC (daily lists run) and sees the 07-20T00:00 CRL without it, the second
# the 07-20T06:00 CRL listing it.
RUN_A = datetime(2020, 7, 20, 4, tzinfo=UTC)
RUN_B = datetime(2020, 7, 20, 8, tzinfo=UTC)
CRTSH_RUN = datetime(2020, 7, 21, tzinfo=UTC)
CRTSH_IDENTITY = "%.secom-nocheck.secom.example"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorRunning]:
    cache = tmp_path_factory.mktemp("sim-cache")
    with SimulatorRunning(load_scenario(SMALL), cache_dir=cache) as running:
        yield running


def _write_config(sim: SimulatorRunning, path: Path) -> Path:
    """The simulator's ctwatch.toml, as `ctwatch sim serve --write-config` writes it."""
    path.write_text(sim.config_toml(f"{sim.base_url}/log_list.json"))
    return path


def _dag(name: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags" / f"{name}.py")).dags[name]


@pytest.fixture
def warehouse_file(sim: SimulatorRunning, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A warehouse holding the world's CA certificates with their rule findings as of RUN_A."""
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CTWATCH_WAREHOUSE", str(path))
    monkeypatch.setenv("CTWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CTWATCH_CONFIG", str(_write_config(sim, tmp_path / "ctwatch.toml")))
    limit = sim.world.ground_truth()["revocation"]["crtsh_result_limit"]
    monkeypatch.setenv("CTWATCH_SOURCES_CRTSH_RESULT_LIMIT", str(limit))
    con: duckdb.DuckDBPyConnection = warehouse.connect(path)
    store_world_ca_certs(con, sim.world)
    con.close()
    rule_runs.evaluate_rules(path, RUN_A)
    return path


def test_ingest_revocations_archives_crls_and_finds_the_backdating_and_disagreements(
    airflow_db: None, sim: SimulatorRunning, warehouse_file: Path
) -> None:
    truth = {r["cert_id"]: r for r in sim.world.ground_truth()["revocation"]["revocations"]}
    dag = _dag("ingest_revocations")
    for end in (RUN_A, RUN_B):
        run = dag.test(logical_date=end)
        assert run.state == "success"
        assert run.data_interval_end == end

    # the daily lists ran in the first interval only, stamped with its end (the simulator's as-of)
    stamps = warehouse_rows(
        warehouse_file, "SELECT DISTINCT source, observed_at, stamp_kind FROM revocation_snapshots"
    )
    assert {(s, at, kind) for s, at, kind in stamps if s != "ocsp"} == {
        (source, RUN_A, "as_of") for source in ("ccadb", "mozilla_revoked", "onecrl", "crlset")
    }
    assert {(at, kind) for s, at, kind in stamps if s == "ocsp"} == {(RUN_A, "as_of"), (RUN_B, "as_of")}
    assert warehouse_rows(warehouse_file, "SELECT count(*) FROM revocation_source_errors") == [(0,)]

    # CRLs: jprs-dv-g3's CDP (SECOM's full CRL) and the partition CCADB discloses, never the other
    fetches = warehouse_rows(
        warehouse_file,
        "SELECT url, observed_at, http_status, error FROM crl_fetches WHERE url LIKE '%secom-root%' "
        "ORDER BY url, observed_at",
    )
    assert fetches == [
        (P0, RUN_A, 200, None),
        (P0, RUN_B, 200, None),  # a new version at 06:00
        (FULL, RUN_A, 200, None),
        (FULL, RUN_B, 200, None),
    ]
    # unchanged CRLs of other watched issuers answered 304 the second time
    not_modified = warehouse_rows(
        warehouse_file, "SELECT count(*), bool_and(not_modified) FROM crl_fetches WHERE observed_at = $b "
        "AND url NOT LIKE '%secom-root%'", {"b": RUN_B},
    )  # fmt: skip
    assert not_modified[0][0] > 0
    assert not_modified[0][1] is True

    backdated = truth["jprs-dv-g3"]
    observation = warehouse_rows(
        warehouse_file,
        "SELECT revoked_at_claimed, first_observed_at, last_observed_absent_at FROM revocation_observations "
        "WHERE source = 'crl' AND serial_hex = $serial AND evidence_ref = $url",
        {"serial": backdated["serial_hex"], "url": FULL},
    )
    assert observation == [(datetime.fromisoformat(backdated["revoked_at_claimed"]), RUN_B, RUN_A)]
    findings = warehouse_rows(
        warehouse_file,
        "SELECT code, serial_hex, finding_at, first_found_as_of, evaluated_as_of FROM crl_findings "
        "ORDER BY code, serial_hex",
    )
    assert findings == [
        # CCADB names the partitions, not the full CRL the certificates point to (the finding is
        # about its first archived version: thisUpdate 07-20T00:00)
        ("crl_partition_undisclosed", None, datetime(2020, 7, 20, tzinfo=UTC), RUN_A, RUN_B),
        (
            "crl_revocation_backdated",
            backdated["serial_hex"],
            datetime.fromisoformat(backdated["revoked_at_claimed"]),
            RUN_B,
            RUN_B,
        ),
    ]

    # disagreements as of RUN_B: the CRL lists r1 and r2, CCADB (07-20T04:00) says "Not Revoked";
    # OCSP keeps saying good for r2 (scenario: ocsp = "good"); for r1 it caught up on 07-16
    disagreements = warehouse_rows(
        warehouse_file, "SELECT kind, der_sha256, revoked_side, other_side, first_found_as_of "
        "FROM revocation_disagreements ORDER BY kind, der_sha256",
    )  # fmt: skip
    r1, r2 = truth["jprs-dv-g3.r1"], truth["jprs-dv-g3.r2"]
    assert {(kind, sha) for kind, sha, *_ in disagreements} == {
        ("crl_revoked_ccadb_not_revoked", r1["der_sha256"]),
        ("crl_revoked_ccadb_not_revoked", r2["der_sha256"]),
        ("ocsp_good_crl_revoked", r2["der_sha256"]),
    }
    for kind, sha, revoked_side, other_side, first_found in disagreements:
        revoked, other = json.loads(revoked_side), json.loads(other_side)
        rev = r1 if sha == r1["der_sha256"] else r2
        assert revoked["source"] == "crl"
        assert revoked["revoked_at_claimed"] == datetime.fromisoformat(rev["revoked_at_claimed"]).isoformat()
        assert revoked["first_observed_at"] == RUN_A.isoformat()  # listed long before our first fetch
        assert other["source"] == ("ccadb" if kind.startswith("crl_revoked_ccadb") else "ocsp")
        assert first_found == RUN_A


def test_ingest_crtsh_stores_the_certificates_crtsh_knows_as_of_the_run(
    airflow_db: None, sim: SimulatorRunning, warehouse_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTWATCH_SOURCES_CRTSH_IDENTITIES", CRTSH_IDENTITY)
    run = _dag("ingest_crtsh").test(logical_date=CRTSH_RUN)
    assert run.state == "success"
    assert run.data_interval_end == CRTSH_RUN

    # what crt.sh knew by then, unexpired (exclude=expired), under that identity
    as_of_ms = CRTSH_RUN.timestamp() * 1000
    expected = {
        hashlib.sha256(c.der).hexdigest()
        for c in sim.world.revocations.crtsh_certs
        if c.known_from_ms <= as_of_ms
        and c.not_after > CRTSH_RUN
        and any(i.endswith(".secom-nocheck.secom.example") for i in c.identities)
    }
    assert len(expected) > 10
    stored = {
        sha
        for (sha,) in warehouse_rows(
            warehouse_file, "SELECT der_sha256 FROM certificates WHERE first_seen_source = 'crtsh'"
        )
    }
    assert stored == expected
    assert warehouse_rows(warehouse_file, "SELECT count(*) FROM revocation_source_errors") == [(0,)]

    # Bugzilla bugs are linked to the CA owners of the stored CCADB records
    ingest_daily_lists(warehouse_file, load_settings().sources, as_of=CRTSH_RUN)
    assert _dag("ingest_crtsh").test(logical_date=CRTSH_RUN + timedelta(days=1)).state == "success"
    bugs = warehouse_rows(
        warehouse_file,
        "SELECT bug_id, ca_owner, revocation_delay_tags, observed_at FROM bugzilla_bugs "
        "ORDER BY bug_id, observed_at",
    )
    assert bugs == [
        (1650910, None, ["delayed-revocation-ca"], CRTSH_RUN),
        (1650910, "SECOM Trust Systems", ["delayed-revocation-ca"], CRTSH_RUN + timedelta(days=1)),
        (1651234, None, ["ca-revocation-delay"], CRTSH_RUN),
        (1651234, "Example Trust", ["ca-revocation-delay"], CRTSH_RUN + timedelta(days=1)),
    ]


# A run whose interval (08:00-12:00) holds no 00:00 UTC, then one four hours later.
FIRST_RUN = datetime(2020, 7, 20, 12, tzinfo=UTC)
NEXT_RUN = datetime(2020, 7, 20, 16, tzinfo=UTC)
DOWN = "http://127.0.0.1:9/onecrl"  # the discard port: nothing listens, the connection is refused


def _states(run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_the_first_run_fetches_the_daily_lists_and_a_down_source_fails_only_its_task(
    airflow_db: None, warehouse_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTWATCH_SOURCES_ONECRL_URL", DOWN)
    monkeypatch.setenv("CTWATCH_SOURCES_CRLSET_ENABLED", "false")
    dag = _dag("ingest_revocations")
    for task in dag.tasks:
        task.retries = 0  # the next scheduled run is the retry here; dag.test() would wait minutes
    first = dag.test(logical_date=FIRST_RUN)
    assert first.state == "failed"
    assert _states(first) == {
        "daily_ccadb": "success",
        "daily_mozilla_revoked": "success",
        "daily_onecrl": "failed",  # the source that is down, and only it
        "daily_crlset": "skipped",  # disabled in the configuration
        "crl_plan": "success",
        "crl_fetch": "success",
        "crl_archive": "success",
        "ocsp_for_open_findings": "success",
        "disagreements": "success",
        "every_source_answered": "upstream_failed",  # so the run is failed, not green
    }
    # the lists were fetched although the interval holds no midnight: the warehouse had none
    snapshots = warehouse_rows(
        warehouse_file, "SELECT source, observed_at FROM revocation_snapshots WHERE source <> 'ocsp'"
    )
    assert sorted(snapshots) == [("ccadb", FIRST_RUN), ("mozilla_revoked", FIRST_RUN)]
    health = {
        (source, ok): failure
        for source, ok, failure in warehouse_rows(
            warehouse_file,
            "SELECT source, ok, failure FROM source_checks WHERE source IN ('ccadb', 'onecrl')",
        )
    }
    assert set(health) == {("ccadb", True), ("onecrl", False)}
    assert DOWN in health[("onecrl", False)]
    view = warehouse_rows(
        warehouse_file, "SELECT last_success_at, last_failure_at FROM source_health WHERE source = 'onecrl'"
    )
    assert view == [(None, FIRST_RUN)]

    # four hours later: CCADB's snapshot is less than a day old, OneCRL is tried again
    second = dag.test(logical_date=NEXT_RUN)
    assert _states(second)["daily_ccadb"] == "success"
    ccadb_snapshots = "SELECT count(*) FROM revocation_snapshots WHERE source = 'ccadb'"
    assert warehouse_rows(warehouse_file, ccadb_snapshots) == [(1,)]
    attempts = warehouse_rows(
        warehouse_file, "SELECT checked_at FROM source_checks WHERE source = 'onecrl' ORDER BY 1"
    )
    assert attempts == [(FIRST_RUN,), (NEXT_RUN,)]
