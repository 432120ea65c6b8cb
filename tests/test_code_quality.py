"""`make lint` as part of the suite: ruff, ruff format and mypy stay clean, and the layer rule holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent


def _run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO_ROOT, input=stdin, capture_output=True, text=True, check=False)


def test_ruff_is_clean() -> None:
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    result = _run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("statement", ["import airflow", "from airflow.sdk import dag"])
def test_the_domain_library_may_not_import_airflow(statement: str) -> None:
    result = _run(
        str(BIN / "ruff"),
        "check",
        "--stdin-filename",
        "include/ctwatch/example.py",
        "-",
        stdin=f"{statement}\n",
    )
    assert result.returncode == 1
    assert "TID251" in result.stdout


def test_dags_may_import_airflow() -> None:
    result = _run(
        str(BIN / "ruff"), "check", "--stdin-filename", "dags/example.py", "-", stdin="import airflow\n"
    )
    assert "TID251" not in result.stdout
