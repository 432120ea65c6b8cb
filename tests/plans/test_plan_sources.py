"""A declared plan measured from the simulator's sources, end to end (plan_world.toml): CT backfilled
from 2020-06-15 only (ctwatch did not watch earlier), crt.sh's issuer search for the history (its
capped answers split), plan-ca's own CRL found through CCADB, then the evaluator.

Every expected figure comes from the world's log records (`World.leaf_entries`) and the revocation
timelines the scenario declares, never from ctwatch's parsers or formulas.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ctwatch import rule_runs, warehouse
from ctwatch.evaluate import PointKind, evaluate, read_plans
from ctwatch.evaluate.config import parse_config
from ctwatch.evaluate.plan_progress import population, read_evidence
from ctwatch.evaluate.plan_sources import crtsh_history_targets, plan_crl_scope
from ctwatch.ingest import IngestConfig, ingest_once
from ctwatch.revocation import daily_lists, watched_crls
from ctwatch.revocation.crtsh_issuer_history import ingest_issuer_history
from ctwatch.sim.crtsh_index import crtsh_ca_ids
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from ctwatch.sim.world import World
from tests.revocation_sources.conftest import sim_locations

pytestmark = [pytest.mark.integration]
SCENARIO = Path(__file__).with_name("plan_world.toml")
CLOCK_START = datetime(2020, 7, 1, tzinfo=UTC)
WATCHED_FROM = datetime(2020, 6, 15, tzinfo=UTC)
AS_OF = datetime(2020, 10, 15, tzinfo=UTC)
STOP = datetime(2020, 7, 30, tzinfo=UTC)  # "stop issuance by 2020-07-29": the end of that day
POLLS = [datetime(2020, 7, 3, tzinfo=UTC), datetime(2020, 8, 1, tzinfo=UTC), datetime(2020, 9, 1, tzinfo=UTC),
         datetime(2020, 10, 1, tzinfo=UTC), AS_OF]  # fmt: skip
NOW = datetime(2026, 1, 1, tzinfo=UTC)
INCIDENT = "ocsp-eku-2020:Plan Trust"


def _spki_sha256(der: bytes) -> str:
    key = x509.load_der_x509_certificate(der).public_key()
    return hashlib.sha256(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).hexdigest()


@dataclass(frozen=True)
class Measured:
    world: World
    warehouse_file: Path
    key: str
    crl_urls: tuple[str, ...]


def _config(key: str, ca_id: int) -> bytes:
    return f"""
[[incidents]]
id = "ocsp-eku-2020"
rule = "e_ca_ocsp_signing_eku_without_nocheck"
clock_start = 2020-07-01T00:00:00Z
clock_source = "public disclosure"
window_kind = "subordinate_ca"

[[plans]]
incident = "ocsp-eku-2020"
ca_owner = "Plan Trust"
announced_at = 2020-07-20T00:00:00Z
source = "https://bugzilla.example/1#c1"
stop_issuance = 2020-07-29
issuer_keys = ["{key}"]
crtsh_ca_ids = {{ "{key}" = {ca_id} }}
milestones = [{{ due = 2020-08-31, replaced_percent = 10 }}, {{ due = 2020-09-30, replaced_percent = 40 }}]
""".encode()


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Measured:
    tmp = tmp_path_factory.mktemp("plan-sources")
    warehouse_file = tmp / "w.duckdb"
    with SimulatorRunning(load_scenario(SCENARIO), cache_dir=tmp / "sim-cache") as sim:
        world = sim.world
        ca = world.ca_certs["plan-ca"]
        key = _spki_sha256(ca.der)
        config = parse_config(_config(key, crtsh_ca_ids(world.ca_certs)[ca.key_group]))
        ingest = IngestConfig(
            log_list=str(sim.write_log_list(tmp / "log_list.json")),
            backfill_window=(WATCHED_FROM, AS_OF),
            request_as_of=AS_OF,
            min_range_entries=1000,
            requests_per_second=float("inf"),
            watched_spki_sha256=(key,),
        )
        assert ingest_once(warehouse_file, ingest, tmp / "ct-run", as_of=AS_OF).ranges_failed == 0
        rule_runs.evaluate_rules(warehouse_file, POLLS[0])
        locations = sim_locations(sim)
        targets = crtsh_history_targets(config)
        for at in POLLS:
            assert daily_lists.ingest_daily_lists(warehouse_file, locations, as_of=at).fetch_errors == []
            assert ingest_issuer_history(warehouse_file, locations, targets, as_of=at).unreachable == ()
            crls = watched_crls.ingest_crls(
                warehouse_file, locations, tmp / "crl", as_of=at, plans=plan_crl_scope(config)
            )
            assert crls.errors == ()
            con = warehouse.connect(warehouse_file)
            try:
                evaluate(con, at, config=config, now=NOW)
            finally:
                con.close()
        urls = tuple(world.revocations.crl_url(s) for s in ("plan-ca",))
    return Measured(world, warehouse_file, key, urls)


def _truth(world: World) -> dict[int, tuple[datetime, datetime, int]]:
    """serial -> (notBefore, notAfter, earliest CT timestamp in ms) from the log records."""
    leaves: dict[int, tuple[datetime, datetime, int]] = {}
    for entry in world.leaf_entries("plan-ca"):
        known = leaves.get(entry.serial)
        first = entry.timestamp_ms if known is None else min(known[2], entry.timestamp_ms)
        leaves[entry.serial] = (entry.not_before, entry.not_after, first)
    return leaves


def test_crtsh_and_ct_agree_where_both_cover_the_window(measured: Measured) -> None:
    """crt.sh is searched until a search after the clock start (+1 day) succeeds (POLLS[0], 07-03):
    the history up to then; CT covers what was logged from WATCHED_FROM on. Both cover
    [WATCHED_FROM, POLLS[0]]: there each source finds exactly the leaves the other does."""
    truth = _truth(measured.world)
    con = warehouse.connect(measured.warehouse_file, read_only=True)
    try:
        evidence = read_evidence(con, [measured.key], AS_OF)
        searches = con.execute("SELECT queries, error, observed_at FROM crtsh_issuer_searches").fetchall()
    finally:
        con.close()
    leaves = population(evidence)
    start_ms, searched_ms = WATCHED_FROM.timestamp() * 1000, POLLS[0].timestamp() * 1000
    from_ct = {leaf.serial_hex for leaf in leaves if leaf.first_ct is not None}
    from_crtsh = {leaf.serial_hex for leaf in leaves if leaf.crtsh_id is not None}
    assert from_ct == {f"{s:x}" for s, (_, _, first) in truth.items() if start_ms <= first}
    assert from_crtsh == {f"{s:x}" for s, (_, _, first) in truth.items() if first <= searched_ms}
    ct_in_window = {
        leaf.serial_hex
        for leaf in leaves
        if leaf.first_ct is not None and leaf.first_ct.timestamp <= POLLS[0]
    }
    crtsh_in_window = {
        row["serial_hex"]
        for row in evidence.crtsh_rows
        if row["entry_timestamp"] is not None and row["entry_timestamp"] >= WATCHED_FROM
    }
    assert ct_in_window == crtsh_in_window
    assert len(ct_in_window) > 0
    assert len(from_crtsh - from_ct) > 0  # the history case: leaves only crt.sh knows
    [(queries, error, observed_at)] = searches  # complete after one search: no later one made
    assert (error, observed_at) == (None, POLLS[0])
    assert queries > 1  # capped at 25 rows: `%` was split


def test_milestones_and_late_issuance_match_the_world(measured: Measured) -> None:
    truth = _truth(measured.world)
    revocations = [r for r in measured.world.revocations.revocations if r.scope == "plan-ca"]
    baseline = {s for s, (nb, na, _) in truth.items() if nb <= CLOCK_START <= na}

    def share(due: datetime) -> float:
        published = {r.serial for r in revocations if r.published_at is not None and r.published_at <= due}
        return 100.0 * len(published & baseline) / len(baseline)

    con = warehouse.connect(measured.warehouse_file, read_only=True)
    try:
        progress = read_plans(con, AS_OF)[INCIDENT]
    finally:
        con.close()
    milestones = [(p.label, p.measured_percent) for p in progress.points if p.kind is PointKind.MILESTONE]
    assert milestones == [
        ("2020-08-31", pytest.approx(share(datetime(2020, 9, 1, tzinfo=UTC)))),
        ("2020-09-30", pytest.approx(share(datetime(2020, 10, 1, tzinfo=UTC)))),
    ]
    assert {p.baseline for p in progress.points} == {len(baseline)}
    late = sorted(f"{s:x}" for s, (nb, _, _) in truth.items() if nb > STOP)
    assert sorted(leaf.serial_hex for leaf in progress.late_leaves) == late
    assert late, "the world issues after the stop date"
    assert any(measured.crl_urls[0] in line for line in progress.population)
    assert timedelta(0) < STOP - CLOCK_START
