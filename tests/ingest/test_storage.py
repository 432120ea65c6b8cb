"""What one ingestion run stores: chain certificates once, watched leaves in full, counts for all."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ctwatch import warehouse
from ctwatch.ingest import ingest_once
from ctwatch.ingest.derwalk import DerWalkError, leaf_fields
from ctwatch.sim.server import SimulatorRunning
from tests.ingest.conftest import AS_OF, ca_spki, fast_config, rows, truth

pytestmark = pytest.mark.integration


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {
        "leaves": rows(con, "SELECT * FROM ct_leaves ORDER BY log_id, entry_index"),
        "counts": rows(con, "SELECT * FROM ct_issuer_daily_counts ORDER BY ALL"),
        "certificates": rows(con, "SELECT der_sha256, first_seen_source FROM certificates ORDER BY ALL"),
        "coverage": rows(con, "SELECT log_id, start_index, end_exclusive FROM ct_log_coverage ORDER BY ALL"),
        "heads": rows(con, "SELECT log_id, tree_size, root_hash FROM ct_tree_heads ORDER BY ALL"),
        "findings": rows(con, "SELECT der_sha256, rule_id FROM rule_findings ORDER BY ALL"),
        "sightings": rows(con, "SELECT * FROM certificate_ct_sightings ORDER BY ALL"),
    }


def test_ingestion_stores_what_compliance_needs(
    sim: SimulatorRunning, log_list: Path, tmp_path: Path
) -> None:
    warehouse_file = tmp_path / "warehouse.duckdb"
    summary = ingest_once(warehouse_file, fast_config(log_list), tmp_path / "run1", as_of=AS_OF)
    world = sim.world
    assert summary.ranges_failed == 0
    assert summary.entries == sum(log.size for log in world.logs.values())

    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        # Every distinct chain certificate once, first seen at a position where it really is.
        truth_cas = {ca["der_sha256"]: ca["cert_id"] for ca in world.ground_truth()["ca_certificates"]}
        stored = rows(con, "SELECT der_sha256, first_seen_source, is_ca FROM certificates")
        assert len(stored) == len({sha for sha, _, _ in stored})
        first_seen = {
            f"ct:{world.logs[name].log_id.hex()}:{info['first_index_by_ca'][cert_id]}"
            for name, info in world.ground_truth()["logs"].items()
            for cert_id in info["first_index_by_ca"]
        }
        in_logs = {
            cert_id for info in world.ground_truth()["logs"].values() for cert_id in info["first_index_by_ca"]
        }
        assert {truth_cas[sha] for sha, _, _ in stored} == in_logs
        assert all(is_ca and source in first_seen for _, source, is_ca in stored)

        # The OCSP-signing intermediates carry findings, and their keys are the watched issuers.
        flagged = {ca["spki_sha256"] for ca in world.ground_truth()["ca_certificates"] if ca["ocsp_signing"]}
        watched = {row[0] for row in rows(con, "SELECT issuer_spki_sha256 FROM ct_leaves")}
        assert watched == flagged

        for name, log in world.logs.items():
            log_id = log.log_id.hex()
            entries = truth(world, name)
            expected = {e.index: e for e in entries if e.issuer_spki_sha256 in flagged}
            leaves = rows(
                con,
                "SELECT entry_index, leaf_hash, issuer_spki_sha256, precert, epoch_ms(entry_timestamp),"
                " serial, epoch(not_before)::BIGINT, epoch(not_after)::BIGINT"
                " FROM ct_leaves WHERE log_id = $log ORDER BY entry_index",
                {"log": log_id},
            )
            assert [row[0] for row in leaves] == sorted(expected)
            for index, leaf_hash, issuer, precert, timestamp_ms, serial, not_before, not_after in leaves:
                entry = expected[index]
                assert (leaf_hash, issuer, precert, timestamp_ms) == (
                    entry.leaf_hash,
                    entry.issuer_spki_sha256,
                    entry.precert,
                    entry.timestamp_ms,
                )
                certificate = x509.load_der_x509_certificate(log.certificate(index))
                assert int.from_bytes(serial, "big", signed=True) == certificate.serial_number
                assert not_before == int(certificate.not_valid_before_utc.timestamp())
                assert not_after == int(certificate.not_valid_after_utc.timestamp())

            # Counts for every entry, per issuer key and precert flag.
            counted = Counter[tuple[str, bool]]()
            for issuer, precert, entries_count in rows(
                con,
                "SELECT issuer_spki_sha256, precert, entries FROM ct_issuer_daily_counts WHERE log_id = $log",
                {"log": log_id},
            ):
                counted[(issuer, precert)] += entries_count
            assert counted == Counter((e.issuer_spki_sha256, e.precert) for e in entries)
            assert (
                rows(
                    con,
                    "SELECT start_index, end_exclusive FROM ct_log_coverage WHERE log_id = $log",
                    {"log": log_id},
                )[-1][1]
                == log.size
            )
        before = _snapshot(con)
    finally:
        con.close()

    # A second run finds everything covered: nothing new, the same rows (no wall-clock columns).
    again = ingest_once(warehouse_file, fast_config(log_list), tmp_path / "run2", as_of=AS_OF)
    assert (again.ranges_planned, again.entries) == (0, 0)
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        assert _snapshot(con) == before
    finally:
        con.close()


def test_configured_issuer_keys_are_watched(sim: SimulatorRunning, log_list: Path, tmp_path: Path) -> None:
    spki = ca_spki(sim.world)
    dv = spki["example-dv-1"]
    config = fast_config(
        log_list, watched_spki_sha256=(dv,), log_ids=(sim.world.logs["sim-argon"].log_id.hex(),)
    )
    ingest_once(tmp_path / "w.duckdb", config, tmp_path / "run", as_of=AS_OF)
    con = warehouse.connect(tmp_path / "w.duckdb", read_only=True)
    try:
        stored = Counter(row[0] for row in rows(con, "SELECT issuer_spki_sha256 FROM ct_leaves"))
    finally:
        con.close()
    expected = sum(1 for e in truth(sim.world, "sim-argon") if e.issuer_spki_sha256 == dv)
    assert stored[dv] == expected > 0


def test_leaf_walk_reads_certificates_and_tbs(sim: SimulatorRunning) -> None:
    log = sim.world.logs["sim-argon"]
    certificate = x509.load_der_x509_certificate(log.certificate(0))
    fields = leaf_fields(certificate.public_bytes(Encoding.DER), is_tbs=False)
    from_tbs = leaf_fields(certificate.tbs_certificate_bytes, is_tbs=True)
    assert fields == from_tbs
    assert int.from_bytes(fields.serial, "big", signed=True) == certificate.serial_number
    assert fields.not_after_s == int(certificate.not_valid_after_utc.timestamp())
    with pytest.raises(DerWalkError):
        leaf_fields(certificate.tbs_certificate_bytes[:40], is_tbs=True)
    with pytest.raises(DerWalkError):
        leaf_fields(b"\x31\x03\x02\x01\x01", is_tbs=True)
