"""connect/migrate: schema creation, idempotence, edited migrations, read-only mode."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from ctwatch import warehouse
from ctwatch.warehouse import schema
from ctwatch.warehouse.schema import Migration
from ctwatch.x509 import ParsedCert

BASE_TABLES = {
    "certificates",
    "cert_parse_errors",
    "rule_findings",
    "ct_log_coverage",
    "revocation_observations",
    "schema_migrations",
}


def test_connect_creates_folder_and_schema(warehouse_file: Path) -> None:
    con = warehouse.connect(warehouse_file)
    try:
        tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        views = {
            row[0]
            for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        }
        undocumented = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE comment IS NULL AND table_name <> ?",
            ["schema_migrations"],
        ).fetchall()
        versions = con.execute("SELECT version, name FROM schema_migrations").fetchall()
    finally:
        con.close()
    assert warehouse_file.is_file()
    assert tables >= BASE_TABLES
    assert not tables & {"incidents", "incident_key_groups"}  # 0001's, never written: dropped by 0010
    assert "key_groups" in views
    assert undocumented == []
    assert versions[0] == (1, "base")
    assert versions == [(m.version, m.name) for m in schema.available_migrations()]


def test_migrations_are_idempotent(warehouse_file: Path) -> None:
    warehouse.connect(warehouse_file).close()
    con = warehouse.connect(warehouse_file)
    try:
        assert warehouse.migrate(con) == []
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone() == (
            len(schema.available_migrations()),
        )
    finally:
        con.close()


def _extra_migration(version: int, name: str, sql: str) -> Migration:
    sha256 = hashlib.sha256(sql.encode()).hexdigest()
    return Migration(version, name, sha256, sql, sha256)


def test_later_migrations_apply_in_order_each_all_or_nothing(
    warehouse_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse.connect(warehouse_file).close()
    shipped = schema.available_migrations()
    next_version = shipped[-1].version + 1
    added = _extra_migration(next_version, "extra", "CREATE TABLE extra_table (id BIGINT NOT NULL);")
    broken = _extra_migration(
        next_version + 1, "broken", "CREATE TABLE half_done (a INTEGER); SELECT no_such_function();"
    )
    monkeypatch.setattr(schema, "available_migrations", lambda: (*shipped, added, broken))

    con = duckdb.connect(str(warehouse_file))
    try:
        with pytest.raises(warehouse.MigrationError, match=f"{next_version + 1:04d}_broken"):
            warehouse.migrate(con)
        tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        versions = [
            row[0] for row in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
        ]
    finally:
        con.close()
    assert "extra_table" in tables
    assert "half_done" not in tables
    assert versions == [*(m.version for m in shipped), next_version]
    with pytest.raises(warehouse.SchemaBehindError, match=f"{next_version + 1:04d}_broken"):
        warehouse.connect(warehouse_file, read_only=True)


def test_edited_applied_migration_is_detected(warehouse_file: Path) -> None:
    con = warehouse.connect(warehouse_file)
    # The recorded checksum no longer matches the file: same as editing the file after it ran.
    con.execute("UPDATE schema_migrations SET sha256 = repeat('0', 64) WHERE version = 1")
    con.close()
    with pytest.raises(warehouse.ChecksumMismatchError, match="0001_base"):
        warehouse.connect(warehouse_file)
    with pytest.raises(warehouse.ChecksumMismatchError):
        warehouse.connect(warehouse_file, read_only=True)


def test_database_newer_than_code_is_refused(warehouse_file: Path) -> None:
    con = warehouse.connect(warehouse_file)
    con.execute("INSERT INTO schema_migrations VALUES (9999, 'future', repeat('a', 64), now())")
    con.close()
    with pytest.raises(warehouse.MigrationError, match="9999"):
        warehouse.connect(warehouse_file)


def test_read_only_sees_data_and_cannot_write(warehouse_file: Path, real_certs: list[ParsedCert]) -> None:
    con = warehouse.connect(warehouse_file)
    warehouse.store_certificates(con, real_certs[:3], source="file:fixtures")
    con.close()

    reader = warehouse.connect(warehouse_file, read_only=True)
    try:
        assert len(list(warehouse.certificates_for_rules(reader))) == 3
        with pytest.raises(duckdb.Error, match="read-only"):
            warehouse.store_certificates(reader, real_certs[3:4], source="file:fixtures")
        assert reader.execute("SELECT count(*) FROM certificates").fetchone() == (3,)
    finally:
        reader.close()


def test_read_only_refuses_a_schema_behind(tmp_path: Path) -> None:
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    with pytest.raises(warehouse.SchemaBehindError, match="0001_base"):
        warehouse.connect(bare, read_only=True)
    # and it wrote nothing: the file is still unmigrated
    con = duckdb.connect(str(bare), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)
    finally:
        con.close()


def test_read_only_missing_file_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "absent" / "warehouse.duckdb"
    with pytest.raises(warehouse.WarehouseError, match="no warehouse"):
        warehouse.connect(missing, read_only=True)
    assert not missing.parent.exists()


def test_load_sql_reads_package_files_and_rejects_paths() -> None:
    assert "INSERT INTO certificates" in warehouse.load_sql("certificates/insert_new")
    with pytest.raises(ValueError, match="area/name"):
        warehouse.load_sql("../migrations/0001_base")


def test_statements_ignore_comments_and_layout_but_not_quoted_text() -> None:
    text = "-- 0099: a table (as first written)\nCREATE TABLE t (\n    a VARCHAR  -- why a\n);\n"
    recommented = "-- 0099: a table\n/* layout changed too */ CREATE TABLE t ( a VARCHAR );"
    assert schema.statements(text) == schema.statements(recommented) == "CREATE TABLE t ( a VARCHAR );"
    # a changed statement, and a '--' inside a string or an identifier, are not comments
    assert schema.statements("CREATE TABLE t (a INTEGER);") != schema.statements(text)
    quoted = "COMMENT ON TABLE t IS 'a -- b /* c */ it''s'; SELECT \"x -- y\";"
    assert schema.statements(quoted) == quoted


def test_warehouses_that_recorded_the_first_shipped_files_still_open(warehouse_file: Path) -> None:
    con = warehouse.connect(warehouse_file)
    # what the code recorded before comments stopped counting: the SHA-256 of the whole file
    for version, first_shipped in schema.FIRST_SHIPPED_SHA256.items():
        con.execute(
            "UPDATE schema_migrations SET sha256 = $s WHERE version = $v", {"s": first_shipped, "v": version}
        )
    con.close()
    warehouse.connect(warehouse_file).close()
    warehouse.connect(warehouse_file, read_only=True).close()


def test_the_first_shipped_files_differ_from_today_in_comments_only() -> None:
    """Each accepted earlier checksum belongs to the file as its first commit added it, and that
    text runs the same statements as today's file (read from git, which every clone carries)."""
    import subprocess

    from tests.conftest import REPO_ROOT

    by_version = {m.version: m for m in schema.available_migrations()}
    for version, first_shipped in schema.FIRST_SHIPPED_SHA256.items():
        migration = by_version[version]
        path = f"include/ctwatch/warehouse/migrations/{version:04d}_{migration.name}.sql"
        added = subprocess.run(
            ["git", "log", "--diff-filter=A", "--format=%H", "--", path],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        ).stdout.split()[-1]  # fmt: skip
        first = subprocess.run(
            ["git", "show", f"{added}:{path}"], cwd=REPO_ROOT, capture_output=True, check=True
        ).stdout
        assert hashlib.sha256(first).hexdigest() == first_shipped, path
        assert schema.statements(first.decode()) == schema.statements(migration.sql), path
