"""A CA's leaf population migrating (tests/sim/leaf_migration.toml): `leaves_until`,
`leaf_validity_days`, `final_certs`, `skip` in `[[revocations]]`, and crt.sh's `iCAID` and
`deduplicate=Y`, checked against the leaf population computed from `World.leaf_entries`."""

from __future__ import annotations

import tomllib
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from ctwatch.sim.crtsh_index import crtsh_ca_ids
from ctwatch.sim.scenario import ScenarioError, parse_scenario
from ctwatch.sim.server import SimulatorRunning
from ctwatch.sim.world import LeafEntry, World
from ctwatch.sources.crtsh import split_pattern
from tests.sim.conftest import fetch, fetch_json

pytestmark = pytest.mark.integration

SCENARIO = Path(__file__).parent / "leaf_migration.toml"
DECLARED: dict[str, Any] = tomllib.loads(SCENARIO.read_text())
OLD, NEW = DECLARED["intermediates"]
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorRunning]:
    with SimulatorRunning(SCENARIO, cache_dir=tmp_path_factory.mktemp("sim-cache")) as running:
        yield running


def _first_seen_ms(entries: list[LeafEntry]) -> dict[tuple[int, bool], int]:
    """(serial, precert) -> the earliest CT timestamp of that certificate in any log."""
    first: dict[tuple[int, bool], int] = {}
    for entry in entries:
        key = (entry.serial, entry.precert)
        first[key] = min(first.get(key, entry.timestamp_ms), entry.timestamp_ms)
    return first


def test_each_precert_is_paired_with_a_later_final_certificate(sim: SimulatorRunning) -> None:
    entries = list(sim.world.leaf_entries("mig-old"))
    finals = {(e.log, e.serial): e for e in entries if not e.precert}
    precerts = [e for e in entries if e.precert]
    assert len(precerts) == OLD["precerts"] * 2  # both logs accept every notAfter
    for pre in precerts:
        final = finals[(pre.log, pre.serial)]
        assert (final.not_before, final.not_after, final.issuer_cert_id) == (
            pre.not_before,
            pre.not_after,
            pre.issuer_cert_id,
        )
        assert 0 < final.timestamp_ms - pre.timestamp_ms < HOUR_MS
    assert len(finals) == (OLD["leaves"] + OLD["precerts"]) * 2

    pre = precerts[0]
    log = sim.world.logs[pre.log]
    pre_der = x509.load_der_x509_certificate(log.certificate(pre.index))
    final_der = x509.load_der_x509_certificate(log.certificate(finals[(pre.log, pre.serial)].index))
    for cert in (pre_der, final_der):
        assert cert.serial_number == pre.serial
        assert (cert.not_valid_before_utc, cert.not_valid_after_utc) == (pre.not_before, pre.not_after)
    assert pre_der.subject == final_der.subject  # same host number
    assert [_has_poison(pre_der), _has_poison(final_der)] == [True, False]


def _has_poison(cert: x509.Certificate) -> bool:
    return any(ext.oid == x509.ExtensionOID.PRECERT_POISON for ext in cert.extensions)


def _population(world: World, ca_id: str) -> set[tuple[str, int, int, bool, datetime]]:
    return {(e.log, e.timestamp_ms, e.serial, e.precert, e.not_before) for e in world.leaf_entries(ca_id)}


def test_final_certs_add_entries_without_changing_the_others(sim: SimulatorRunning, tmp_path: Path) -> None:
    text = SCENARIO.read_text()
    assert "final_certs = true\n" in text
    without = World.load(parse_scenario(text.replace("final_certs = true\n", "")), cache_dir=tmp_path)
    assert _population(without, "mig-new") == _population(sim.world, "mig-new")
    before, after = _population(without, "mig-old"), _population(sim.world, "mig-old")
    assert before < after
    added = sorted((log, serial, precert) for log, _, serial, precert, _ in after - before)
    assert added == sorted((log, serial, False) for log, _, serial, precert, _ in before if precert)


def test_leaves_until_and_leaf_validity_days(sim: SimulatorRunning) -> None:
    old = list(sim.world.leaf_entries("mig-old"))
    new = list(sim.world.leaf_entries("mig-new"))
    assert all(e.not_before < OLD["leaves_until"] for e in old)
    assert all(e.not_before >= NEW["leaves_from"] for e in new)
    assert {e.not_after - e.not_before for e in old} == {timedelta(days=OLD["leaf_validity_days"])}
    assert {e.not_after - e.not_before for e in new} == {
        timedelta(days=DECLARED["scenario"]["leaf_validity_days"])
    }
    entry = new[0]
    der = x509.load_der_x509_certificate(sim.world.logs[entry.log].certificate(entry.index))
    assert der.not_valid_after_utc - der.not_valid_before_utc == timedelta(days=90)
    # The shard accepts 45-day notAfters (before 2021-05-05) only: sharding uses the CA's validity.
    assert {e.log for e in old} == {"sim-one", "sim-shard"}
    assert {e.log for e in new} == {"sim-one"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "leaves_until = 2021-03-20T00:00:00Z",
            "leaves_until = 2021-03-01T00:00:00Z",
            "'mig-old': leaves_until 2021-03-01T00:00:00[+]00:00 is not after",
        ),
        (
            "leaves_from = 2021-03-20T00:00:00Z",
            "leaves_from = 2021-03-20T00:00:00Z\nleaves_until = 2021-03-19T00:00:00Z",
            "'mig-new': leaves_until .* is not after the start of its issuance, 2021-03-20",
        ),
        ("leaf_validity_days = 45", "leaf_validity_days = 0", "'mig-old': leaf_validity_days must be"),
    ],
)
def test_malformed_migration_keys_name_the_item(old: str, new: str, message: str) -> None:
    text = SCENARIO.read_text()
    assert old in text
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(text.replace(old, new))


def test_skip_revokes_the_next_distinct_serials_once_each(sim: SimulatorRunning) -> None:
    first_seen = _first_seen_ms(list(sim.world.leaf_entries("mig-old")))
    serial_first: dict[int, int] = {}
    for (serial, _), moment_ms in first_seen.items():
        serial_first[serial] = min(serial_first.get(serial, moment_ms), moment_ms)
    in_crtsh_order = sorted(serial_first, key=serial_first.__getitem__)
    declared = DECLARED["revocations"][0]
    expected = in_crtsh_order[declared["skip"] : declared["skip"] + declared["count"]]
    assert any((serial, True) in first_seen for serial in expected)  # pairs among them

    ccadb = fetch(sim.base_url + "/ccadb/AllCertificateRecordsCSVFormatV5")[2].decode()
    old_cert = sim.world.ca_certs["mig-old"]
    row = next(line for line in ccadb.splitlines() if old_cert.der_sha256.upper() in line)
    assert '"http://crl.mig.example/mig-old.crl"' in row
    status, _, body = fetch(sim.base_url + "/hosts/crl.mig.example/mig-old.crl")
    assert status == 200
    crl = x509.load_der_x509_crl(body)
    issuer = x509.load_der_x509_certificate(old_cert.der)
    assert crl.issuer == issuer.subject
    assert crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    assert sorted(entry.serial_number for entry in crl) == sorted(expected)


def test_skip_beyond_the_distinct_serials_is_an_error(tmp_path: Path) -> None:
    distinct = OLD["leaves"] + OLD["precerts"]
    text = SCENARIO.read_text().replace("skip = 3\n", f"skip = {distinct - 3}\n")
    world = World.load(parse_scenario(text), cache_dir=tmp_path)
    with pytest.raises(ScenarioError, match=rf"'mig-old' issued only {distinct} distinct serials"):
        _ = world.revocations


def _crtsh(sim: SimulatorRunning, identity: str, ca_id: int, *extra: str, as_of: str | None = None) -> Any:
    query = f"?output=json&identity={urllib.parse.quote(identity)}&iCAID={ca_id}"
    return fetch_json(sim.base_url + "/crtsh/" + query + "".join(extra), as_of=as_of)


def test_crtsh_icaid_narrows_and_deduplicate_drops_precerts_with_a_known_final(
    sim: SimulatorRunning,
) -> None:
    ca_ids = crtsh_ca_ids(sim.world.ca_certs)
    first_seen = _first_seen_ms(list(sim.world.leaf_entries("mig-old")))
    rows = _crtsh(sim, "%", ca_ids["mig-old"])
    assert {r["issuer_ca_id"] for r in rows} == {ca_ids["mig-old"]}
    assert len(rows) == len(first_seen) == OLD["leaves"] + 2 * OLD["precerts"]
    assert len(_crtsh(sim, "%", ca_ids["mig-new"])) == NEW["precerts"]
    # The client's split of a capped `%` (no empty expansion) covers every leaf's identities.
    split = {r["id"] for part in split_pattern("%") or [] for r in _crtsh(sim, part, ca_ids["mig-old"])}
    assert split == {r["id"] for r in rows}

    deduplicated = _crtsh(sim, "%", ca_ids["mig-old"], "&deduplicate=Y")
    serials = [int(r["serial_number"], 16) for r in deduplicated]
    assert sorted(serials) == sorted({serial for serial, _ in first_seen})

    # A pair whose final certificate crt.sh learns in a later second than its precertificate.
    serial, pre_second, final_second = next(
        (serial, _ceil_second(pre_ms), _ceil_second(first_seen[(serial, False)]))
        for (serial, precert), pre_ms in sorted(first_seen.items(), key=lambda item: item[1])
        if precert and _ceil_second(pre_ms) < first_seen[(serial, False)]
    )

    def ids_of_serial(as_of_s: int, *extra: str) -> list[int]:
        rows = _crtsh(sim, "%", ca_ids["mig-old"], *extra, as_of=_iso_second(as_of_s))
        return sorted(r["id"] for r in rows if int(r["serial_number"], 16) == serial)

    precert_only = ids_of_serial(pre_second)
    assert len(precert_only) == 1
    assert ids_of_serial(pre_second, "&deduplicate=Y") == precert_only
    precert_id, final_id = ids_of_serial(final_second)
    assert precert_id == precert_only[0]
    assert ids_of_serial(final_second, "&deduplicate=Y") == [final_id]
    assert _poisoned(sim, precert_id)
    assert not _poisoned(sim, final_id)

    assert fetch(sim.base_url + "/crtsh/?output=json&identity=%25&iCAID=mig-old")[0] == 400


def _ceil_second(moment_ms: int) -> int:
    return -(-moment_ms // 1000)


def _iso_second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _poisoned(sim: SimulatorRunning, crtsh_id: int) -> bool:
    return _has_poison(x509.load_pem_x509_certificate(fetch(sim.base_url + f"/crtsh/?d={crtsh_id}")[2]))
