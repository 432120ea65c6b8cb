"""The README's "Command line" block, line by line, in a folder laid out like a clone: the
simulator writes ctwatch.toml, `ct ingest` follows its logs from their head (nothing older),
`ct extend-back` makes the next ingestion fetch a log's history, `explain` and `report` answer
for a certificate the rule flags, and a backup restores over the warehouse. The capitals are
filled with fixtures."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ctwatch import warehouse
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.world import World
from tests.conftest import REPO_ROOT
from tests.readme import clone_like, shell_lines, simulator_serving

pytestmark = [pytest.mark.integration]
CRLS = Path("tests/fixtures/real/crls/real")
RULE = "e_ca_ocsp_signing_eku_without_nocheck"
AS_OF = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def commands() -> dict[str, str]:
    """The block's lines by their subcommand (`lint`, `crl inspect`, ..., `--help`)."""
    by_name: dict[str, str] = {}
    for line in shell_lines("Command line"):
        words = shlex.split(line)
        assert words[0] == ".venv/bin/ctwatch", line
        name = (
            " ".join(w for w in words[1:3] if re.fullmatch(r"[a-z][a-z-]*", w))
            if words[1] != "--help"
            else "--help"
        )
        by_name[name] = line
    return by_name


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CTWATCH_CONFIG")  # ./ctwatch.toml, as for a user
    monkeypatch.delenv("CTWATCH_DATA_DIR")
    return clone_like(tmp_path, ".venv", "include", "tests")


def _run(line: str, folder: Path, fill: dict[str, str], **env: str) -> str:
    capitals = set(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", line))
    assert capitals <= set(fill), f"{line}: nothing to fill {sorted(capitals - set(fill))} with"
    line = re.sub(r"\[([^\]]*)\]", r"\1", line)
    for placeholder in capitals:
        line = re.sub(rf"\b{placeholder}\b", shlex.quote(fill[placeholder]), line)
    done = subprocess.run(
        ["bash", "-c", line], cwd=folder, capture_output=True, text=True, check=False, timeout=600,
        env={"PATH": "/usr/bin:/bin", **env},
    )  # fmt: skip
    assert done.returncode == 0, f"{line}\n{done.stderr}"
    assert done.stdout.strip(), line
    return done.stdout


@pytest.fixture
def simulator(commands: dict[str, str], folder: Path) -> Iterator[dict[str, Any]]:
    with simulator_serving(commands.pop("sim serve"), folder) as printed:
        yield printed


def _flagged_cas() -> set[str]:
    scenario = load_scenario(REPO_ROOT / "include" / "ctwatch" / "sim" / "scenarios" / "small.toml")
    return {
        ca["der_sha256"]
        for ca in World.load(scenario).ground_truth()["ca_certificates"]
        if ca["ocsp_signing"] and not ca["ocsp_nocheck"] and ca["kind"] != "root"
    }


def test_every_command_line_of_the_readme_runs_as_written(
    commands: dict[str, str], folder: Path, simulator: dict[str, Any]
) -> None:
    assert simulator["config_file"] == "ctwatch.toml"
    fill = {
        "CRL_FILE": str(CRLS / "GIAG2_2017-06-29_ct-go.crl.pem"),
        "CERT_FILE": str(CRLS / "GIAG2_issuer_cert_ct-go.pem"),
        "DATE": AS_OF.isoformat(),
        "DIR": "reports",
    }
    linted = [json.loads(line) for line in _run(commands.pop("lint"), folder, fill).splitlines()]
    assert len(linted) >= 50
    assert all("kind" in record for record in linted)
    inspected = _run(commands.pop("crl inspect"), folder, fill)
    assert "signature" in inspected.lower()
    assert "simulated" in _run(commands.pop("config check"), folder, fill)

    # first followed from each log's head: no history, so no finding
    ingest = commands.pop("ct ingest")
    first = json.loads(_run(ingest, folder, fill, CTWATCH_CT_NEW_LOGS_START="head"))
    assert first["findings"] == 0
    con = warehouse.connect(folder / "data" / "warehouse.duckdb", read_only=True)
    try:
        followed = [
            log_id for (log_id,) in con.execute("SELECT log_id FROM ct_log_follow ORDER BY 1").fetchall()
        ]
    finally:
        con.close()
    assert followed
    for log_id in followed:
        back = json.loads(_run(commands["ct extend-back"], folder, {**fill, "LOG_ID": log_id}))
        assert back["now_from"] == 0
        assert back["followed_from"] > 0
    commands.pop("ct extend-back")
    second = json.loads(_run(ingest, folder, fill))
    assert second["findings"] > 0

    con = warehouse.connect(folder / "data" / "warehouse.duckdb", read_only=True)
    try:
        found = {
            sha
            for (sha,) in con.execute(
                "SELECT der_sha256 FROM rule_findings WHERE rule_id = $r", {"r": RULE}
            ).fetchall()
        }
    finally:
        con.close()
    assert found
    assert found <= _flagged_cas()
    flagged = min(found)
    explained = _run(commands.pop("explain"), folder, {**fill, "CERT_SHA256": flagged})
    assert flagged in explained
    # CCADB is not fetched by `ct ingest`: the finding is out of every root store, and explain says so
    assert f"rule {RULE} flags it, but no incident covers it: no root store includes its chain" in explained
    evaluated = json.loads(_run(commands.pop("evaluate-compliance"), folder, fill))
    assert evaluated["out_of_scope"] == len(found)
    _run(commands.pop("report"), folder, fill)
    assert any((folder / "reports").rglob("*.md"))
    backed_up = json.loads(_run(commands.pop("backup"), folder, {**fill, "BACKUP_DIR": "backup"}))
    restored = json.loads(_run(commands.pop("restore"), folder, {**fill, "BACKUP_DIR": "backup"}))
    assert restored["row_counts"] == backed_up["row_counts"]
    assert (folder / "data" / "warehouse.duckdb.before-restore").is_file()
    assert "evaluate-compliance" in _run(commands.pop("--help"), folder, fill)
    assert commands == {}, f"README lines no test ran: {commands}"
