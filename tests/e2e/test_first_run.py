"""The README's "Point ctwatch at your world", on the packaged simulated world: the simulator writes
ctwatch.toml, `config check` accepts it, and the first run of each DAG, configured by that file
alone, yields incidents and verdicts (the daily lists fetched at once, though the hour is not
midnight), which `ctwatch explain` explains."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ctwatch import warehouse
from tests.conftest import REPO_ROOT
from tests.readme import clone_like, shell_lines, simulator_serving

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# A present-day run at noon: its 4-hour revocation interval holds no midnight.
RUN = datetime(2026, 11, 27, 12, tzinfo=UTC)
DAGS = ("ingest_ct_logs", "ingest_revocations", "evaluate_rules", "evaluate_compliance")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where a user stands: the README's relative paths (.venv, include) resolve as in a clone."""
    return clone_like(tmp_path, ".venv", "include")


@pytest.fixture
def simulator(folder: Path) -> Iterator[dict[str, Any]]:
    serve, check = shell_lines("Point ctwatch at your world")
    assert serve.endswith(" &")
    assert check == ".venv/bin/ctwatch config check"
    with simulator_serving(serve, folder) as printed:
        yield printed


def _dag(name: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags" / f"{name}.py")).dags[name]


def test_configured_by_ctwatch_toml_alone_the_first_run_yields_verdicts(
    airflow_db: None, folder: Path, simulator: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = folder / "ctwatch.toml"
    assert simulator["config_file"] == "ctwatch.toml"
    assert config.exists()
    check = subprocess.run(
        [".venv/bin/ctwatch", "config", "check"], cwd=folder, capture_output=True, text=True, check=False,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert f"configuration file: {config}" in check.stdout
    assert f'stamping.mode                               = "simulated"  # {config}' in check.stdout

    # everything else from the file: the tests' own configuration and data folder are set aside
    monkeypatch.setenv("CTWATCH_CONFIG", str(config))
    monkeypatch.delenv("CTWATCH_DATA_DIR")
    started = time.monotonic()
    for dag_id in DAGS:
        run = _dag(dag_id).test(logical_date=RUN)
        assert run.state == "success", dag_id
    elapsed = time.monotonic() - started

    con = warehouse.connect(folder / "data" / "warehouse.duckdb", read_only=True)
    try:
        lists = con.execute(
            "SELECT DISTINCT source FROM revocation_snapshots WHERE source <> 'ocsp'"
        ).fetchall()
        incidents = con.execute(
            "SELECT count(*) FROM compliance_incidents WHERE as_of = $a", {"a": RUN}
        ).fetchone()
        verdicts = con.execute(
            "SELECT der_sha256, incident_id FROM compliance_verdicts WHERE as_of = $a ORDER BY 1", {"a": RUN}
        ).fetchall()
    finally:
        con.close()
    assert sorted(s for (s,) in lists) == ["ccadb", "crlset", "mozilla_revoked", "onecrl"]
    assert incidents is not None
    assert incidents[0] > 0
    assert verdicts, f"no verdict after the first runs ({elapsed:.0f} s)"
    assert all(":(not in CCADB)" not in incident for _, incident in verdicts)  # CCADB was there at once

    explained = subprocess.run(
        [".venv/bin/ctwatch", "explain", verdicts[0][0], "--as-of", RUN.isoformat()],
        cwd=folder, capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert explained.returncode == 0, explained.stderr
    assert verdicts[0][0] in explained.stdout
