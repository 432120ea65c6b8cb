"""`ctwatch-airflow` next to a running SQLite-backed instance: a command that writes while reading
waits for the write lock instead of failing with `database is locked`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from ctwatch_airflow.airflow_cli import take_write_lock_at_begin
from ctwatch_airflow.launcher import airflow_environment, configured_layout, prepare
from tests.conftest import REPO_ROOT

OTHER_WRITER_PAUSE_S = 0.5


def _database(tmp_path: Path) -> Path:
    path = tmp_path / "airflow.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")  # as the launcher sets it
        db.execute("CREATE TABLE dag_run (id INTEGER)")
        db.executemany("INSERT INTO dag_run VALUES (?)", [(n,) for n in range(5)])
    return path


def _read_then_write_while_another_process_commits(path: Path, engine: Engine) -> float:
    """The backfill's pattern: walk a result, let another writer (the scheduler) commit, then
    insert in the same transaction. Returns how long the other writer waited."""
    walked = threading.Event()
    waited: list[float] = []

    def scheduler() -> None:
        walked.wait()
        with sqlite3.connect(path, timeout=30) as other:
            started = time.monotonic()
            other.execute("INSERT INTO dag_run VALUES (100)")
            waited.append(time.monotonic() - started)

    thread = threading.Thread(target=scheduler)
    thread.start()
    try:
        with engine.connect() as connection, connection.begin():
            rows = connection.execute(text("SELECT id FROM dag_run"))
            rows.fetchone()
            walked.set()
            time.sleep(OTHER_WRITER_PAUSE_S)
            connection.execute(text("INSERT INTO dag_run VALUES (6)"))
    finally:
        walked.set()
        thread.join()
    return waited[0]


def test_sqlite_alone_fails_the_write_at_once_whatever_the_busy_timeout(tmp_path: Path) -> None:
    path = _database(tmp_path)
    engine = create_engine(f"sqlite:///{path}?timeout=30")
    with pytest.raises(OperationalError, match="database is locked"):
        _read_then_write_while_another_process_commits(path, engine)


def test_with_the_write_lock_taken_at_begin_the_other_writer_waits_its_turn(tmp_path: Path) -> None:
    path = _database(tmp_path)
    engine = create_engine(f"sqlite:///{path}?timeout=30")
    take_write_lock_at_begin(engine)
    waited = _read_then_write_while_another_process_commits(path, engine)
    assert waited >= OTHER_WRITER_PAUSE_S * 0.9
    with sqlite3.connect(path) as db:
        assert sorted(row[0] for row in db.execute("SELECT id FROM dag_run WHERE id >= 5")) == [6, 100]


@pytest.mark.integration
def test_ctwatch_airflow_creates_a_backfill_while_another_process_keeps_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_HOME", raising=False)
    monkeypatch.setenv("CTWATCH_AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("CTWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CTWATCH_AIRFLOW_DB", raising=False)
    layout = configured_layout(0)
    assert layout is not None
    prepare(layout, airflow_environment(layout, os.environ))
    command = [str(REPO_ROOT / ".venv" / "bin" / "ctwatch-airflow")]
    subprocess.run([*command, "dags", "reserialize"], check=True, capture_output=True, timeout=300)
    stop = threading.Event()
    commits = 0

    def scheduler() -> None:  # short write transactions, as fast as it can
        nonlocal commits
        with sqlite3.connect(layout.sqlite_file, timeout=30) as other:
            other.execute("CREATE TABLE IF NOT EXISTS writer_load (n INTEGER)")
            while not stop.is_set():
                other.execute("INSERT INTO writer_load VALUES (1)")
                other.commit()
                commits += 1
                time.sleep(0.002)

    thread = threading.Thread(target=scheduler)
    thread.start()
    try:
        created = subprocess.run(
            [*command, "backfill", "create", "--dag-id", "ingest_ct_logs",
             "--from-date", "2020-07-02T07:00:00+00:00", "--to-date", "2020-07-02T12:00:00+00:00"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    finally:
        stop.set()
        thread.join()
    assert created.returncode == 0, created.stderr[-3000:]
    assert commits > 100, "the other writer kept committing meanwhile"
    with sqlite3.connect(layout.sqlite_file) as db:
        (runs,) = db.execute("SELECT count(*) FROM dag_run WHERE backfill_id IS NOT NULL").fetchone()
    assert runs == 21  # 07:00 to 12:00 inclusive, every 15 minutes: 5 * 4 + 1
