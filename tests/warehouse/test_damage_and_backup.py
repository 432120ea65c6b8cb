"""A damaged warehouse file is refused with its name and what to do; a backup restores it whole."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ctwatch import warehouse
from ctwatch.alerts import enqueue
from ctwatch.evidence.revocation import StampKind
from ctwatch.sources import onecrl
from ctwatch.warehouse import observations
from ctwatch.warehouse.backup import MANIFEST, back_up, restore
from ctwatch.warehouse.errors import WarehouseDamagedError
from ctwatch.x509 import ParsedCert
from tests.alerts.events import event
from tests.conftest import FIXTURES

ONECRL = FIXTURES / "real" / "onecrl" / "onecrl_snapshot_2018-05-30_zcrypto.json"
FETCHED = datetime(2018, 5, 30, 12, tzinfo=UTC)


def _cut_to_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _overwrite_header(path: Path) -> None:
    with path.open("r+b") as file:
        file.seek(4096)  # the first database header, past DuckDB's main header
        file.write(random.Random(1).randbytes(8192))


def _empty(path: Path) -> None:
    os.truncate(path, 0)


def _not_duckdb(path: Path) -> None:
    path.write_text("id,name\n1,not a database\n")


DAMAGES: dict[str, Callable[[Path], None]] = {
    "cut to half": _cut_to_half,
    "header overwritten": _overwrite_header,
    "zero-length": _empty,
    "not a DuckDB file": _not_duckdb,
}


def _filled(path: Path, certs: list[ParsedCert]) -> None:
    """Rows in several tables, three of them numbered by sequences."""
    con = warehouse.connect(path)
    try:
        warehouse.store_certificates(con, certs, source="test")
        snapshot = onecrl.parse_records(
            ONECRL.read_bytes(), location="fixture", observed_at=FETCHED, stamp_kind=StampKind.FETCH
        )
        observations.store_snapshot(con, snapshot)
        observations.refresh_observations(con, "onecrl")
        enqueue(con, [event()])
    finally:
        con.close()


def _contents(path: Path) -> dict[str, Any]:
    """Every table's rows (sorted) and every sequence's last value."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        rows = {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in tables}
        sequences = con.execute(
            "SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    return {"rows": rows, "sequences": sequences}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_warehouse_is_refused_naming_the_file_and_what_to_do(
    warehouse_file: Path, real_certs: list[ParsedCert], damage: Callable[[Path], None]
) -> None:
    _filled(warehouse_file, real_certs[:5])
    damage(warehouse_file)
    for read_only in (False, True):
        with pytest.raises(WarehouseDamagedError) as refused:
            warehouse.connect(warehouse_file, read_only=read_only, lock_timeout_s=1)
        message = str(refused.value)
        assert "\n" not in message
        assert f"warehouse {warehouse_file} is damaged" in message
        assert f"ctwatch restore BACKUP_DIR --warehouse {warehouse_file}" in message
        assert "Backfilling a past incident" in message


def test_a_block_damaged_inside_is_found_by_reading_it_or_backing_it_up(
    warehouse_file: Path, real_certs: list[ParsedCert], tmp_path: Path
) -> None:
    _filled(warehouse_file, real_certs)
    with warehouse_file.open("r+b") as file:
        file.seek(warehouse_file.stat().st_size // 2)
        file.write(random.Random(2).randbytes(4096))
    # Opening reads only headers and the catalog: the damaged data block shows when read.
    warehouse.connect(warehouse_file, read_only=True).close()
    with pytest.raises(duckdb.Error) as read:
        _contents(warehouse_file)
    assert warehouse.connection.damage_of(warehouse_file, read.value) is not None
    with pytest.raises(WarehouseDamagedError, match="is damaged"):
        back_up(warehouse_file, tmp_path / "backup")
    assert not any((tmp_path / "backup").iterdir())


def test_a_backup_restores_every_row_and_sequence(
    warehouse_file: Path, real_certs: list[ParsedCert], tmp_path: Path
) -> None:
    _filled(warehouse_file, real_certs)
    before = _contents(warehouse_file)
    backup_dir = tmp_path / "backups" / "first"
    manifest = back_up(warehouse_file, backup_dir)

    assert json.loads((backup_dir / MANIFEST).read_text()) == manifest
    assert manifest["source"] == str(warehouse_file.resolve())
    assert manifest["schema_version"] == max(m.version for m in warehouse.schema.available_migrations())
    assert manifest["row_counts"] == {table: len(rows) for table, rows in before["rows"].items()}
    assert manifest["row_counts"]["revocation_sightings"] > 700
    assert sorted(p.name for p in backup_dir.iterdir()) == [MANIFEST, warehouse_file.name]  # no .wal left

    _cut_to_half(warehouse_file)
    done = restore(backup_dir, warehouse_file)
    aside = warehouse_file.with_name(warehouse_file.name + ".before-restore")
    assert done["kept_aside"] == str(aside)
    assert aside.stat().st_size < warehouse_file.stat().st_size
    assert _contents(warehouse_file) == before

    # The sequences go on where they were: new rows take new ids.
    con = warehouse.connect(warehouse_file)
    try:
        assert enqueue(con, [event(der_sha256="cd" * 32)]) == 1
        body = ONECRL.read_bytes()
        later = onecrl.parse_records(
            body, location="fixture", observed_at=FETCHED.replace(hour=13), stamp_kind=StampKind.FETCH
        )
        stored = observations.store_snapshot(con, later)
    finally:
        con.close()
    assert stored.new
    assert stored.snapshot_id > max(row[0] for row in before["rows"]["revocation_snapshots"])


def test_restore_keeps_a_healthy_warehouse_unless_told_to_replace_it(
    warehouse_file: Path, real_certs: list[ParsedCert], tmp_path: Path
) -> None:
    _filled(warehouse_file, real_certs[:3])
    backup_dir = tmp_path / "backup"
    back_up(warehouse_file, backup_dir)
    with pytest.raises(warehouse.WarehouseError, match="add --replace"):
        restore(backup_dir, warehouse_file)
    with pytest.raises(warehouse.WarehouseError, match="is not empty"):
        back_up(warehouse_file, backup_dir)

    assert restore(backup_dir, warehouse_file, replace=True)["kept_aside"]
    with pytest.raises(warehouse.WarehouseError, match="before-restore exists"):
        restore(backup_dir, warehouse_file, replace=True)


def test_a_restore_into_a_new_place_needs_no_replace(warehouse_file: Path, tmp_path: Path) -> None:
    warehouse.connect(warehouse_file).close()
    back_up(warehouse_file, tmp_path / "backup")
    elsewhere = tmp_path / "elsewhere" / "restored.duckdb"
    assert restore(tmp_path / "backup", elsewhere)["kept_aside"] is None
    warehouse.connect(elsewhere, read_only=True).close()


def test_a_damaged_or_missing_backup_is_refused(warehouse_file: Path, tmp_path: Path) -> None:
    warehouse.connect(warehouse_file).close()
    backup_dir = tmp_path / "backup"
    back_up(warehouse_file, backup_dir)
    copy = backup_dir / warehouse_file.name
    with copy.open("r+b") as file:
        file.seek(100)
        file.write(b"\xff")
    with pytest.raises(warehouse.WarehouseError, match="SHA-256 differs"):
        restore(backup_dir, tmp_path / "new.duckdb")
    (backup_dir / MANIFEST).write_text("{not json")
    with pytest.raises(warehouse.WarehouseError, match="is no backup manifest"):
        restore(backup_dir, tmp_path / "new.duckdb")
    with pytest.raises(warehouse.WarehouseError, match="no backup in"):
        restore(tmp_path, tmp_path / "new.duckdb")
    assert not (tmp_path / "new.duckdb").exists()
