"""`ctwatch ccadb import-archive`, `crtsh import-csv` and `crtsh sql` through the CLI's main."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctwatch import warehouse
from ctwatch.cli import main
from tests.conftest import FIXTURES

CCADB_SAMPLE = (
    FIXTURES
    / "real"
    / "ccadb"
    / "raw_csv_format_samples_ccadb-utils"
    / "AllCertificateRecordsCSVFormat.test.csv"
)
REVOKED_SHA = "ab" * 32
LISTED_SHA = "cd" * 32


def test_crtsh_sql_prints_the_ocsp_signing_query(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crtsh", "sql"]) == 0
    sql = capsys.readouterr().out
    assert "'1.3.6.1.5.5.7.3.9' IN (SELECT x509_extKeyUsages(c.CERTIFICATE, TRUE))" in sql
    assert "NOT x509_hasExtension(c.CERTIFICATE, '1.3.6.1.5.5.7.48.1.5')" in sql


def test_crtsh_import_csv_stamps_the_query_time_and_records_bad_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "ocsp_signing_ca.csv"
    csv_file.write_text(
        "crtsh_id,sha256,serial_hex,revocation_date,reason_code,last_seen_check_date,crl_last_checked\n"
        f"12,{REVOKED_SHA},0a,2020-07-05 00:00:00,4,2020-08-01 10:00:00,2020-08-02 00:00:00\n"
        f"13,{LISTED_SHA},0b,,,,2020-08-02 00:00:00\n"
        "14,not-a-hash,0c,,,,\n"
    )
    warehouse_file = tmp_path / "w.duckdb"
    argv = ["crtsh", "import-csv", str(csv_file), "--queried-at", "2020-08-02T12:00:00Z"]
    assert main([*argv, "--warehouse", str(warehouse_file)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["snapshots"], summary["sightings"], summary["record_errors"]) == (1, 2, 1)
    queried_at = datetime(2020, 8, 2, 12, tzinfo=UTC)
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        snapshots = con.execute("SELECT source, observed_at, stamp_kind FROM revocation_snapshots").fetchall()
        observed = con.execute(
            "SELECT der_sha256, observer, revoked_at_claimed, reason, first_observed_at "
            "FROM revocation_observations WHERE source = 'crtsh'"
        ).fetchall()
        errors = con.execute("SELECT record_ref FROM revocation_source_errors").fetchall()
    finally:
        con.close()
    assert snapshots == [("crtsh", queried_at, "archive")]
    # crt.sh's observation of the revocation is its own last check that listed it, not our query
    assert observed == [
        (
            REVOKED_SHA,
            "crtsh",
            datetime(2020, 7, 5, tzinfo=UTC),
            "superseded",
            datetime(2020, 8, 1, 10, tzinfo=UTC),
        )
    ]
    assert errors == [("row 4",)]


def test_ccadb_import_archive_dates_each_snapshot_by_its_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name in ("2020-07-27_AllCertificateRecords.csv", "2020-07-01.csv"):
        (folder / name).write_bytes(CCADB_SAMPLE.read_bytes())
    warehouse_file = tmp_path / "w.duckdb"
    assert main(["ccadb", "import-archive", str(folder), "--warehouse", str(warehouse_file)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["snapshots"] == 2
    assert summary["fetch_errors"] == []
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        rows = con.execute(
            "SELECT s.observed_at, s.stamp_kind, count(r.der_sha256) FROM revocation_snapshots AS s "
            "JOIN ccadb_records AS r ON r.snapshot_id = s.id GROUP BY ALL ORDER BY s.observed_at"
        ).fetchall()
    finally:
        con.close()
    records = rows[0][2]
    assert records > 0
    assert rows == [
        (datetime(2020, 7, 1, tzinfo=UTC), "archive", records),
        (datetime(2020, 7, 27, tzinfo=UTC), "archive", records),
    ]
