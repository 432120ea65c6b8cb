"""The CRL archive on the simulator: SECOM's root CRL (full and both partitions) polled every 12 hours as of
the scenario period through the CRL job (conditional GET, archive, observations, findings), then
every finding and observation checked with the exact times of the world's ground truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ctwatch import warehouse
from ctwatch.evidence.crl import CrlFetch, CrlValidators
from ctwatch.revocation import watched_crls
from ctwatch.revocation.daily_lists import ingest_daily_lists
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from tests.conftest import REPO_ROOT
from tests.ingest.conftest import store_world_ca_certs
from tests.revocation_sources.conftest import sim_locations

pytestmark = pytest.mark.integration
SMALL = REPO_ROOT / "include" / "ctwatch" / "sim" / "scenarios" / "small.toml"
# the DAG polls every 4 hours; 12 keeps the test quick and still sees every version apart
CADENCE = timedelta(hours=12)
FULL = "http://crl.secom.example/secom-root.crl"
P0 = "http://crl.secom.example/secom-root-p0.crl"
P1 = "http://crl.secom.example/secom-root-p1.crl"


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class Polled:
    con: duckdb.DuckDBPyConnection
    truth: dict[str, Any]
    polls: list[datetime]
    summaries: list[watched_crls.CrlArchiveSummary]
    crl_dir: Path
    serial_of: dict[str, str]  # cert id -> serial_hex


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Polled]:
    tmp = tmp_path_factory.mktemp("crl-sim")
    with SimulatorRunning(load_scenario(SMALL), cache_dir=tmp / "sim-cache") as sim:
        locations = sim_locations(sim)
        warehouse_file = tmp / "w.duckdb"
        con = warehouse.connect(warehouse_file)
        # the CA certificates: the issuer for signature checks, notAfter for early removal
        store_world_ca_certs(con, sim.world)
        con.close()
        truth = sim.world.ground_truth()["revocation"]
        start, end = sim.world.scenario.start, sim.world.scenario.end
        # one CCADB snapshot as of the start: it discloses partition 0 only
        assert ingest_daily_lists(warehouse_file, locations, as_of=start).fetch_errors == []
        root = sim.world.ca_certs["secom-root"].der_sha256
        crl_dir = tmp / "crl"
        polls: list[datetime] = []
        summaries = []
        validators: dict[str, CrlValidators | None] = dict.fromkeys((FULL, P0, P1))
        at = start
        while at < end:
            targets = [watched_crls.CrlTarget(url, root, ("test",), validators[url]) for url in validators]
            staged = watched_crls.fetch_crls(targets, crl_dir, locations, as_of=at)
            summaries.append(watched_crls.archive_crls(warehouse_file, staged, as_of=at, crl_dir=crl_dir))
            polls.append(at)
            for item in staged:  # what plan_crl_fetches reads back from the archive (latest_validators)
                if item.fetch.http_status == 200:
                    validators[item.target.url] = item.fetch.validators
            at += CADENCE
        serials = {r["cert_id"]: r["serial_hex"] for r in truth["revocations"]}
    con = warehouse.connect(warehouse_file, read_only=True)
    yield Polled(con, truth, polls, summaries, crl_dir, serials)
    con.close()


def _revocation(polled: Polled, cert_id: str) -> dict[str, Any]:
    return next(r for r in polled.truth["revocations"] if r["cert_id"] == cert_id)


def _first_poll_at_or_after(polled: Polled, moment: datetime) -> datetime:
    return next(p for p in polled.polls if p >= moment)


def _last_poll_before(polled: Polled, moment: datetime) -> datetime:
    return [p for p in polled.polls if p < moment][-1]


def _findings(polled: Polled, code: str) -> list[dict[str, Any]]:
    cursor = polled.con.execute(
        "SELECT f.*, list(DISTINCT u.url ORDER BY u.url) AS urls FROM crl_findings AS f "
        "JOIN crl_versions AS v ON v.partition_key = f.partition_key "
        "JOIN crl_fetches AS u ON u.version_id = v.version_id "
        "WHERE f.code = $code GROUP BY ALL ORDER BY urls",
        {"code": code},
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_every_poll_succeeds_and_every_version_is_archived(polled: Polled) -> None:
    assert all(s.errors == () for s in polled.summaries)
    this_updates = [_t(t) for t in polled.truth["crl_versions"]["secom-root"]["this_updates"]]
    for url in (FULL, P0, P1):
        rows = polled.con.execute(
            "SELECT this_update, first_observed_at FROM crl_versions WHERE first_url = $url "
            "ORDER BY position",
            {"url": url},
        ).fetchall()
        assert [r[0] for r in rows] == this_updates
        # each version first observed by the first poll at or after its thisUpdate
        assert [r[1] for r in rows] == [_first_poll_at_or_after(polled, t) for t in this_updates]


def test_not_modified_answers_are_observations_of_the_version_served(polled: Polled) -> None:
    this_updates = [_t(t) for t in polled.truth["crl_versions"]["secom-root"]["this_updates"]]
    rows = polled.con.execute(
        "SELECT f.observed_at, f.http_status, f.not_modified, v.this_update FROM crl_fetches AS f "
        "JOIN crl_versions AS v USING (version_id) WHERE f.url = $url ORDER BY f.observed_at",
        {"url": FULL},
    ).fetchall()
    assert [r[0] for r in rows] == polled.polls
    for observed_at, status, not_modified, this_update in rows:
        served = max(t for t in this_updates if t <= observed_at)
        assert this_update == served
        # 200 for the first poll of each version, 304 (same version) after
        first_poll = observed_at == _first_poll_at_or_after(polled, served)
        assert (status, not_modified) == ((200, False) if first_poll else (304, True))
    assert sum(r[2] for r in rows) == len(polled.polls) - len(this_updates)
    # a 304 moves the version's last observation: the last poll before the next version
    last_seen = polled.con.execute(
        "SELECT last_observed_at FROM crl_versions WHERE first_url = $url ORDER BY position", {"url": FULL}
    ).fetchall()
    nexts = [*this_updates[1:], None]
    expected = [polled.polls[-1] if n is None else _last_poll_before(polled, n) for n in nexts]
    assert [r[0] for r in last_seen] == expected


def test_backdated_revocation_claimed_before_a_version_that_lacked_it(polled: Polled) -> None:
    truth = _revocation(polled, "jprs-dv-g3")
    assert truth["backdated"] is True
    found = _findings(polled, "crl_revocation_backdated")
    # the full CRL and the partition holding the serial; no other serial is backdated
    assert [f["urls"] for f in found] == sorted([[FULL], [truth["crl_partition_url"]]])
    for finding in found:
        assert finding["serial_hex"] == truth["serial_hex"]
        assert finding["finding_at"] == _t(truth["revoked_at_claimed"])
        assert finding["severity"] == "error"
        assert (
            f"before thisUpdate {_t(truth['crl_last_version_without_at']).isoformat()}" in finding["detail"]
        )
        assert (
            f"first listed by thisUpdate {_t(truth['crl_first_listed_at']).isoformat()}" in finding["detail"]
        )
        # found by the first poll that showed the serial, and still open at the end
        assert finding["first_found_as_of"] == _first_poll_at_or_after(
            polled, _t(truth["crl_first_listed_at"])
        )
        assert finding["resolved_as_of"] is None


def test_observation_keeps_the_claimed_date_and_our_first_and_last_absent_observation(
    polled: Polled,
) -> None:
    truth = _revocation(polled, "jprs-dv-g3")
    rows = polled.con.execute(
        "SELECT evidence_ref, revoked_at_claimed, reason, first_observed_at, last_observed_at, "
        "last_observed_absent_at FROM revocation_observations WHERE source = 'crl' AND serial_hex = $serial "
        "ORDER BY evidence_ref",
        {"serial": truth["serial_hex"]},
    ).fetchall()
    first_listed = _t(truth["crl_first_listed_at"])
    expected = (
        _t(truth["revoked_at_claimed"]),
        "superseded",
        _first_poll_at_or_after(polled, first_listed),
        polled.polls[-1],
        _last_poll_before(polled, first_listed),  # the poll that saw the 07-20T00:00 version without it
    )
    assert rows == sorted([(FULL, *expected), (truth["crl_partition_url"], *expected)])
    assert expected[2] - expected[4] == CADENCE


def test_serial_removed_before_the_certificate_expires(polled: Polled) -> None:
    truth = _revocation(polled, "jprs-dv-g3.r2")
    removed_at = _t(truth["removed_at"])
    found = _findings(polled, "crl_serial_removed_before_expiry")
    assert [f["urls"] for f in found] == sorted([[FULL], [truth["crl_partition_url"]]])
    for finding in found:
        assert finding["serial_hex"] == truth["serial_hex"]
        assert finding["finding_at"] == removed_at
        assert finding["detail"].startswith(
            f"listed until thisUpdate {_t(truth['crl_last_listed_at']).isoformat()}, "
            f"absent from thisUpdate {removed_at.isoformat()} (notAfter 2029-"
        )
        assert finding["first_found_as_of"] == _first_poll_at_or_after(polled, removed_at)
    row = polled.con.execute(
        "SELECT first_observed_at, last_observed_at FROM revocation_observations "
        "WHERE source = 'crl' AND serial_hex = $serial AND evidence_ref = $url",
        {"serial": truth["serial_hex"], "url": FULL},
    ).fetchone()
    assert row == (
        _first_poll_at_or_after(polled, _t(truth["crl_first_listed_at"])),
        _last_poll_before(polled, removed_at),
    )


def test_partition_no_ccadb_list_discloses(polled: Polled) -> None:
    undisclosed = polled.truth["crl_versions"]["secom-root"]["undisclosed_partition_urls"]
    assert undisclosed == [P1]
    found = {tuple(f["urls"]): f for f in _findings(polled, "crl_partition_undisclosed")}
    assert (P0,) not in found
    # CCADB lists the partitions instead of the full CRL, so the full CRL is also not disclosed
    assert set(found) == {(FULL,), (P1,)}
    first_p1 = _t(polled.truth["crl_versions"]["secom-root"]["this_updates"][0])
    assert found[(P1,)]["finding_at"] == first_p1
    assert found[(P1,)]["first_found_as_of"] == polled.polls[0]  # the first fetch of P1 showed it


def test_no_other_findings_and_raw_files_follow_the_release_policy(polled: Polled) -> None:
    codes = {r[0] for r in polled.con.execute("SELECT DISTINCT code FROM crl_findings").fetchall()}
    assert codes == {
        "crl_revocation_backdated",
        "crl_serial_removed_before_expiry",
        "crl_partition_undisclosed",
    }
    kept = polled.con.execute(
        "SELECT raw_path, entry_set_changed FROM crl_versions WHERE first_url = $url ORDER BY position",
        {"url": FULL},
    ).fetchall()
    newest = len(kept) - watched_crls.KEEP_NEWEST_RAW_PER_URL
    assert [path is not None for path, _ in kept] == [
        changed or position >= newest for position, (_, changed) in enumerate(kept)
    ]
    on_disk = {str(p) for p in polled.crl_dir.glob("*.crl")}
    referenced = {r[0] for r in polled.con.execute("SELECT raw_path FROM crl_versions").fetchall() if r[0]}
    assert on_disk == referenced


def test_manifest_round_trips_the_fetch_records(polled: Polled, tmp_path: Path) -> None:
    rows = polled.con.execute(
        "SELECT url, observed_at FROM crl_fetches ORDER BY observed_at LIMIT 1"
    ).fetchall()
    assert rows  # the archive holds fetches to describe
    target = watched_crls.CrlTarget(FULL, "ab" * 32, ("cdp", "ccadb"), CrlValidators('"e"', None))
    fetch = CrlFetch(
        url=FULL, observed_at=rows[0][1], stamped_with_as_of=True, http_status=200, not_modified=False,
        path=tmp_path / "x.crl", size_bytes=3, sha256="cd" * 32, etag='"e"', last_modified=None, error=None,
    )  # fmt: skip
    staged = [watched_crls.StagedCrl(target, fetch)]
    manifest = watched_crls.write_manifest(staged, tmp_path, name="run-1")
    assert watched_crls.read_manifest(manifest) == staged
    assert json.loads(manifest.read_text())[0]["fetch"]["observed_at"] == rows[0][1].isoformat()
    assert watched_crls.targets_from_json(watched_crls.targets_to_json([target])) == [target]
