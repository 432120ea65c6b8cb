"""World generation: determinism, the CA hierarchy, leaves from templates, ground truth."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from ctwatch.ct.entries import EntryType, decode_rfc6962_entry
from ctwatch.sim.scenario import Scenario, ScenarioError, parse_scenario
from ctwatch.sim.world import World
from ctwatch.x509 import CertKind, ParsedCert, analyse_der

# The CT poison extension: critical, NULL value (RFC 6962 §3.1).
_POISON = bytes.fromhex("3013060a2b06010401d679020403 0101ff 04020500".replace(" ", ""))


def _log_files(world: World) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(world.directory.iterdir()) if p.name != "complete"}


def test_same_seed_same_bytes_and_other_seed_differs(small_scenario: Scenario, tmp_path: Path) -> None:
    first = World.load(small_scenario, cache_dir=tmp_path / "a")
    second = World.load(small_scenario, cache_dir=tmp_path / "b")
    other = World.load(small_scenario, seed=small_scenario.seed + 1, cache_dir=tmp_path / "a")
    assert first.generated
    assert second.generated
    assert _log_files(first) == _log_files(second)
    assert {c.cert_id: c.der for c in first.ca_certs.values()} == {
        c.cert_id: c.der for c in second.ca_certs.values()
    }
    assert _log_files(other)["sim-argon.hashes"] != _log_files(first)["sim-argon.hashes"]
    assert first.logs["sim-argon"].tree.root() == second.logs["sim-argon"].tree.root()
    cached = World.load(small_scenario, cache_dir=tmp_path / "a")
    assert not cached.generated
    assert cached.logs["sim-argon"].leaf_input(7) == first.logs["sim-argon"].leaf_input(7)


# SHA-256 of small.toml's log files, pinned so that optional scenario keys cannot change a world that
# does not use them (same entries, order and random draws). Only an edit of small.toml or a deliberate
# change of the generator's output may update them.
_SMALL_LOG_FILES_SHA256 = {
    "sim-argon.entries": "9a470db31655bf96794a6bb401c5921400fcc448dc21f0f8dee9dff6b9caa707",
    "sim-argon.hashes": "0ab4be5d42fadff9440d6d1e9824c735457657e72428d8c8eb8116f8d59f895b",
    "sim-tiles.entries": "d99d84a876fe0364b4cd7d739e43c623ca10dd4286ec2e25f700cf92fab178f6",
    "sim-tiles.hashes": "9419ae3868881568bfad98901777c0225f9f183322483272e8f4f1564dd08f06",
}


def test_small_world_log_files_are_pinned(small_scenario: Scenario, sim_cache: Path) -> None:
    files = _log_files(World.load(small_scenario, cache_dir=sim_cache))
    assert {name: hashlib.sha256(files[name]).hexdigest() for name in _SMALL_LOG_FILES_SHA256} == (
        _SMALL_LOG_FILES_SHA256
    )


def _parsed(der: bytes) -> ParsedCert:
    parsed = analyse_der(der)
    assert isinstance(parsed, ParsedCert), parsed
    return parsed


def test_ca_hierarchy_matches_the_scenario(small_scenario: Scenario, sim_cache: Path) -> None:
    world = World.load(small_scenario, cache_dir=sim_cache)
    truth = {c["cert_id"]: c for c in world.ground_truth()["ca_certificates"]}
    jprs = [truth[i] for i in ("jprs-dv-g3", "jprs-dv-g3.r1", "jprs-dv-g3.r2")]
    assert len({c["der_sha256"] for c in jprs}) == 3
    assert len({c["spki_sha256"] for c in jprs}) == 1
    assert [c["kind"] for c in jprs] == ["intermediate", "reissue", "reissue"]
    assert all(c["ocsp_signing"] and not c["ocsp_nocheck"] for c in jprs)
    assert truth["jprs-dv-g3.r1"]["not_before"] == "2020-07-10T00:00:00+00:00"
    assert truth["secom-nocheck"]["ocsp_nocheck"] is True
    assert truth["example-tc"]["technically_constrained"] is True
    cross, root2 = truth["example-root2-by-root1"], truth["example-root2"]
    assert cross["spki_sha256"] == root2["spki_sha256"]
    assert cross["der_sha256"] != root2["der_sha256"]
    assert cross["issuer_cert_id"] == "example-root"

    for cert in world.ca_certs.values():
        parsed = _parsed(cert.der)
        assert parsed.der_sha256 == truth[cert.cert_id]["der_sha256"]
        assert parsed.kind.is_ca
        assert ("1.3.6.1.5.5.7.3.9" in parsed.eku_oids) == truth[cert.cert_id]["ocsp_signing"]
        assert parsed.ocsp_nocheck == truth[cert.cert_id]["ocsp_nocheck"]
    assert _parsed(world.ca_certs["secom-root"].der).kind is CertKind.ROOT
    jprs_parsed = _parsed(world.ca_certs["jprs-dv-g3.r2"].der)
    assert jprs_parsed.crl_urls == ("http://crl.secom.example/secom-root.crl",)
    assert jprs_parsed.ca_issuers_urls == ("http://aia.secom.example/secom-root.der",)


def test_leaves_and_precerts_from_templates_parse(small_scenario: Scenario, sim_cache: Path) -> None:
    world = World.load(small_scenario, cache_dir=sim_cache)
    log = world.logs["sim-argon"]
    seen = set()
    for index in range(0, log.size, 97):
        entry = decode_rfc6962_entry(index, log.leaf_input(index), log.extra_data(index))
        assert entry.leaf_hash == log.leaf_hash(index)
        issuer = _parsed(entry.chain[0])
        if entry.entry_type == EntryType.PRECERT:
            assert entry.precert_der is not None
            precert = _parsed(entry.precert_der)
            assert precert.precert_poison
            # precert_entry carries the TBS without the poison extension; the rest is the precert's
            assert _POISON in entry.precert_der
            assert _POISON not in entry.leaf_der_or_tbs
            assert bytes.fromhex(precert.serial_hex or "") in entry.leaf_der_or_tbs
            assert precert.san_dns_names[0].encode() in entry.leaf_der_or_tbs
            assert entry.issuer_key_hash is not None
            assert entry.issuer_key_hash.hex() == issuer.spki_sha256
            leaf = precert
        else:
            leaf = _parsed(entry.leaf_der_or_tbs)
            assert not leaf.precert_poison
        assert leaf.kind is CertKind.TLS_LEAF
        assert leaf.issuer_der == issuer.subject_der
        assert leaf.not_before is not None
        assert small_scenario.start <= leaf.not_before <= small_scenario.end
        assert leaf.san_dns_names
        assert leaf.san_dns_names[0].startswith("w")
        seen.add((entry.entry_type, leaf.serial_hex))
    assert {t for t, _ in seen} == {EntryType.X509, EntryType.PRECERT}
    assert len({s for _, s in seen}) == len(seen)  # serials differ


def test_ground_truth_counts_and_first_appearance(small_scenario: Scenario, sim_cache: Path) -> None:
    world = World.load(small_scenario, cache_dir=sim_cache)
    truth = world.ground_truth()
    argon = truth["logs"]["sim-argon"]
    assert sum(argon["entries_per_issuer"].values()) == argon["size"] == world.logs["sim-argon"].size
    # example-tc logs only to sim-argon; the static log takes 2020 notAfter only.
    assert "example-tc" in argon["entries_per_issuer"]
    assert "example-tc" not in truth["logs"]["sim-tiles"]["entries_per_issuer"]
    log = world.logs["sim-argon"]
    for cert_id, index in argon["first_index_by_ca"].items():
        assert cert_id in log.template_of(index).chain_ids
        assert all(cert_id not in log.template_of(i).chain_ids for i in range(index))
    flagged = truth["ocsp_signing_ca_first_seen"]
    assert set(flagged) == {"jprs-dv-g3", "jprs-dv-g3.r1", "jprs-dv-g3.r2", "secom-nocheck", "example-tc"}
    assert {"log": "sim-argon", "index": argon["first_index_by_ca"]["jprs-dv-g3"]} in flagged["jprs-dv-g3"]


def test_timestamps_spread_over_the_period_and_log_order_is_integration_order(
    small_scenario: Scenario, sim_cache: Path
) -> None:
    log = World.load(small_scenario, cache_dir=sim_cache).logs["sim-argon"]
    records = [log.record(i) for i in range(log.size)]
    integrated = [r.integrated_ms for r in records]
    assert integrated == sorted(integrated)
    timestamps = [r.timestamp_ms for r in records]
    assert timestamps != sorted(timestamps)  # not monotonic, as in real logs
    assert all(r.timestamp_ms <= r.integrated_ms < r.timestamp_ms + 86_400_000 for r in records)
    start_ms, end_ms = (int(t.timestamp() * 1000) for t in (small_scenario.start, small_scenario.end))
    assert min(timestamps) < start_ms + 7 * 86_400_000
    assert max(timestamps) > end_ms - 7 * 86_400_000


_PERIOD = "seed = 1\nstart = 2020-01-01\nend = 2021-01-01\n"


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        ("seed = 1\nstart = 2020-01-01\nend = 2019-01-01", "before"),
        (
            _PERIOD + '[[logs]]\nname = "a"\n[[logs.faults]]\nkind = "nope"\nfirst = 1',
            "fault",
        ),
        (
            _PERIOD + '[[intermediates]]\nid = "i"\nissuer = "missing"\nowner = "o"\n'
            "not_before = 2020-01-01\nnot_after = 2021-01-01",
            "owner",
        ),
    ],
)
def test_bad_scenarios_are_reported(mutation: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario("[scenario]\n" + mutation)


def test_unknown_tables_are_kept_for_later_simulators(small_scenario: Scenario) -> None:
    text = "[scenario]\nseed = 1\nstart = 2020-01-01\nend = 2021-01-01\n[[crl.revocations]]\ncert = 'x'\n"
    assert parse_scenario(text).extra == {"crl": {"revocations": [{"cert": "x"}]}}
    assert replace(small_scenario, seed=5).seed == 5
