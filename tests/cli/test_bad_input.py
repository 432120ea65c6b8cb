"""Every `ctwatch` subcommand given bad input: exit status 2 and one line on stderr saying what and
where, never a traceback; run as a user runs it, the installed `.venv/bin/ctwatch` without PYTHONPATH."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ctwatch import warehouse
from tests.conftest import FIXTURES

CTWATCH = Path(sys.executable).parent / "ctwatch"
CERT = next((FIXTURES / "real" / "ca_certs" / "ocsp_eku_positive").glob("*.pem"))
UNKNOWN = "ab" * 32
QUERIED = "2020-08-01T00:00:00Z"


@pytest.fixture
def place(tmp_path: Path) -> Path:
    """A working folder with a ctwatch.toml keeping the warehouse in it, garbage, and an empty folder."""
    (tmp_path / "ctwatch.toml").write_text('data_dir = "data"\n')
    (tmp_path / "garbage.pem").write_bytes(b"\x00not a certificate\xff" * 20)
    (tmp_path / "garbage.csv").write_bytes(b"\xff\xfe\x00 definitely not csv \x00" * 10)
    (tmp_path / "scenario.toml").write_text("this is = = not toml\n")
    (tmp_path / "no-log-list.toml").write_text('data_dir = "data"\n[ct]\nlog_list = "missing-list.json"\n')
    (tmp_path / "empty").mkdir()
    return tmp_path


@pytest.fixture
def warehouse_in(place: Path) -> Path:
    path = place / "data" / "warehouse.duckdb"
    warehouse.connect(path).close()
    return path


@pytest.fixture
def locked(warehouse_in: Path) -> Iterator[Path]:
    con = duckdb.connect(str(warehouse_in))  # this process holds DuckDB's write lock
    yield warehouse_in
    con.close()


def _run(place: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CTWATCH), "--lock-wait", "1", *argv], cwd=place, capture_output=True, text=True, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(place)},
    )  # fmt: skip


def _refused(result: subprocess.CompletedProcess[str], command: str, *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ctwatch {command}: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]


NO_WAREHOUSE = [
    (("explain", UNKNOWN), "explain", "no warehouse at", "data/warehouse.duckdb"),
    (("report", "--as-of", "2021-01-01", "--out", "out"), "report", "no warehouse at"),
    (("evaluate-compliance",), "evaluate-compliance", "no warehouse at", "data/warehouse.duckdb"),
]
BAD_FILES = [
    (("lint", "missing.pem"), "lint", "no such file or folder: missing.pem"),
    (("lint", "garbage.pem"), "lint", "garbage.pem"),
    (("lint", str(CERT), "--as-of", "yesterday"), "lint", "--as-of", "yesterday"),
    (("import", "missing.pem"), "import", "no such file or folder: missing.pem"),
    (("import", "garbage.pem"), "import", "no certificate in garbage.pem"),
    (("ccadb", "import-archive", "nowhere"), "ccadb import-archive", "no such folder: nowhere"),
    (("ccadb", "import-archive", "empty"), "ccadb import-archive", "no YYYY-MM-DD*.csv report in empty"),
    (("crtsh", "import-csv", "missing.csv", "--queried-at", QUERIED), "crtsh import-csv", "missing.csv"),
    (("crtsh", "import-csv", "garbage.csv", "--queried-at", QUERIED), "crtsh import-csv", "garbage.csv"),
    (("crtsh", "import-csv", "garbage.csv", "--queried-at", "soon"), "crtsh import-csv", "--queried-at"),
    (("crtsh", "sql", "garbage.csv"), "", "unrecognized arguments: garbage.csv"),
    (("crl", "inspect", "missing.crl"), "crl inspect", "no such file: missing.crl"),
    (("crl", "inspect", "garbage.pem"), "crl inspect", "garbage.pem"),
    (("explain", "not-a-hash"), "explain", "'not-a-hash' is not a SHA-256"),
    (("record-key-destruction", "xyz", "--destroyed-at", "2021-03-31", "--auditor", "A", "--link", "L"),
     "record-key-destruction", "'xyz' is not a SHA-256"),
    (("record-problem-report", "m1", "--ca-owner", "O", "--sent-at", "2024-01-11T08:00:00Z",
      "--recipient", "r", "--der-sha256", "12"), "record-problem-report", "'12' is not a SHA-256"),
    (("evaluate-compliance", "--as-of", "someday"), "evaluate-compliance", "--as-of", "someday"),
    (("ct", "ingest", "--backfill-from", "2020-07-01"), "ct ingest", "--backfill-to go together"),
    (("ct", "ingest", "--config", "no-log-list.toml"), "ct ingest", "missing-list.json"),
    (("ct", "extend-back", UNKNOWN, "--to-index", "-1"), "ct extend-back", "--to-index must be 0 or more"),
    (("config", "check", "--config", "missing.toml"), "config check", "missing.toml", "cannot read"),
    (("config", "check", "--config", "garbage.pem"), "config check", "garbage.pem", "not a TOML file"),
    (("backup", "backup"), "backup", "no warehouse at", "data/warehouse.duckdb"),
    (("restore", "empty"), "restore", "no backup in empty", "manifest.json is missing"),
    (("sim", "generate", "--scenario", "missing.toml"), "sim generate", "missing.toml"),
    (("sim", "ground-truth", "--scenario", "scenario.toml"), "sim ground-truth", "scenario.toml"),
    (("sim", "serve", "--scenario", "missing.toml", "--port", "0"), "sim serve", "missing.toml"),
    (("no-such-command",), "", "invalid choice: 'no-such-command'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "command", *["words"]), [(a, c, w) for a, c, *w in NO_WAREHOUSE + BAD_FILES]
)
def test_bad_input_is_one_line_and_status_2(
    place: Path, argv: tuple[str, ...], command: str, words: list[str]
) -> None:
    _refused(_run(place, *argv), command.strip() or "", *words) if command else _refused_top(
        _run(place, *argv), *words
    )


def _refused_top(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("ctwatch: ")
    assert all(word in line for word in words), line


@pytest.mark.usefixtures("warehouse_in")
def test_an_unknown_certificate_is_said_so(place: Path) -> None:
    _refused(_run(place, "explain", UNKNOWN), "explain", f"certificate {UNKNOWN} is not in the warehouse")


@pytest.mark.usefixtures("warehouse_in")
def test_an_unknown_log_is_said_so(place: Path) -> None:
    _refused(_run(place, "ct", "extend-back", UNKNOWN), "ct extend-back", f"log {UNKNOWN} is not followed")


@pytest.mark.usefixtures("warehouse_in")
def test_a_report_without_an_evaluation_is_said_so(place: Path) -> None:
    _refused(
        _run(place, "report", "--as-of", "2021-01-01", "--out", "out"),
        "report",
        "no evaluation as of 2021-01-01",
    )


LOCKED = [
    (("migrate",), "migrate"),
    (("import", str(CERT)), "import"),
    (("evaluate-rules",), "evaluate-rules"),
    (("evaluate-compliance",), "evaluate-compliance"),
    (("explain", UNKNOWN), "explain"),
    (("record-key-destruction", UNKNOWN, "--destroyed-at", "2021-03-31", "--auditor", "A", "--link", "L"),
     "record-key-destruction"),
    (("backup", "backup"), "backup"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "command"), LOCKED)
def test_a_locked_warehouse_is_said_so(locked: Path, argv: tuple[str, ...], command: str) -> None:
    _refused(_run(locked.parents[1], *argv), command, f"warehouse {locked} is locked", "PID")


def test_a_garbage_warehouse_is_said_so(place: Path) -> None:
    (place / "data").mkdir()
    (place / "data" / "warehouse.duckdb").write_bytes(b"not duckdb" * 100)
    _refused(_run(place, "migrate"), "migrate", "warehouse.duckdb")


@pytest.mark.parametrize("argv", [("explain", UNKNOWN), ("migrate",), ("backup", "backup")])
def test_a_truncated_warehouse_is_said_so_with_what_to_do(warehouse_in: Path, argv: tuple[str, ...]) -> None:
    os.truncate(warehouse_in, warehouse_in.stat().st_size // 2)
    _refused(
        _run(warehouse_in.parents[1], *argv), argv[0], f"warehouse {warehouse_in} is damaged",
        f"ctwatch restore BACKUP_DIR --warehouse {warehouse_in}", "Backfilling a past incident",
    )  # fmt: skip


def test_a_damaged_block_found_while_reading_is_said_so(place: Path, warehouse_in: Path) -> None:
    _run(place, "import", str(CERT))
    with warehouse_in.open("r+b") as file:  # the certificates' block, past the headers and catalog
        file.seek(3 * 4096 + 256 * 1024)
        file.write(b"\x00" * 4096)
    _refused(_run(place, "explain", UNKNOWN), "explain", f"warehouse {warehouse_in} is damaged", "checksum")


def test_the_command_runs_from_anywhere_without_pythonpath(tmp_path: Path) -> None:
    result = _run(tmp_path, "lint", str(CERT))
    assert result.returncode == 0, result.stderr
    assert '"e_ca_ocsp_signing_eku_without_nocheck"' in result.stdout
    module = subprocess.run(
        [sys.executable, "-m", "ctwatch", "--help"],
        cwd=tmp_path, capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert module.returncode == 0
    assert "config check" in module.stdout or "config" in module.stdout


def test_every_subcommand_is_given_bad_input() -> None:
    from ctwatch.cli import build_parser

    def leaves(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not actions:
            yield prefix
        for action in actions:
            for name, sub in action.choices.items():
                yield from leaves(sub, (*prefix, name))

    tried = [argv for argv, *_ in NO_WAREHOUSE + BAD_FILES + LOCKED]
    untried = [
        " ".join(leaf)
        for leaf in leaves(build_parser(), ())
        if not any(t[: len(leaf)] == leaf for t in tried)
    ]
    assert untried == []
