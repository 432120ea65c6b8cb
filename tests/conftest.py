"""Test-wide set-up: an isolated Airflow home, so no test touches ./data or a user's Airflow."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# `sh -c` ignores SIGINT, then execs the command, which inherits that: as a background job would
SIGINT_IGNORED = ("sh", "-c", 'trap "" INT; exec "$@"', "sh")

FIXTURES = REPO_ROOT / "tests" / "fixtures"

# Airflow reads its configuration when first imported: set it before any test module imports it.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="ctwatch-test-airflow-"))
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
        "CTWATCH_DATA_DIR": str(_AIRFLOW_HOME / "data"),
    }
)
os.environ.pop("CTWATCH_WAREHOUSE", None)
# No test reads a ctwatch.toml lying in the working folder: the tests' own says what no file would
# (the packaged July 2020 incident, every other setting its default).
_CONFIG = _AIRFLOW_HOME / "ctwatch.toml"
shutil.copyfile(REPO_ROOT / "include" / "ctwatch" / "evaluate" / "incidents.toml", _CONFIG)
os.environ["CTWATCH_CONFIG"] = str(_CONFIG)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A migrated Airflow metadata DB in the tests' temporary AIRFLOW_HOME."""
    from airflow.utils.db import initdb

    initdb()
