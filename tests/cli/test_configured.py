"""The command reads the same resolved configuration as the DAGs: the warehouse from
`$CTWATCH_DATA_DIR` or `$CTWATCH_WAREHOUSE`, the incidents from ctwatch.toml (`$CTWATCH_CONFIG`),
never the packaged ones when a file is there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES

CTWATCH = Path(sys.executable).parent / "ctwatch"
CERT = min((FIXTURES / "real" / "ca_certs" / "ocsp_eku_positive").glob("*.pem"))
AS_OF = "2026-01-01"  # after every fixture's notBefore
RULE = "e_ca_ocsp_signing_eku_without_nocheck"
# no CCADB is stored: only an incident of any trust scope covers the certificate
CONFIG = f"""
[[incidents]]
id = "declared-here"
rule = "{RULE}"
clock_start = 2020-07-01T17:30:00Z
clock_source = "a test's declaration"
trust_scope = "any"
"""


def _ctwatch(*argv: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CTWATCH), *argv], cwd=cwd, capture_output=True, text=True, check=False,
        env={"PATH": "/usr/bin:/bin", **env},
    )  # fmt: skip


def _sha256_of_linted(cwd: Path) -> str:
    (record,) = [json.loads(line) for line in _ctwatch("lint", str(CERT), cwd=cwd).stdout.splitlines()]
    sha: str = record["der_sha256"]
    return sha


def test_explain_reads_the_configured_warehouse_and_incidents(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere" / "ctwatch.toml"
    config.parent.mkdir()
    config.write_text(CONFIG)
    data = tmp_path / "data-here"
    env = {"CTWATCH_CONFIG": str(config), "CTWATCH_DATA_DIR": str(data)}
    for argv in (
        ("import", str(CERT)),
        ("evaluate-rules",),
        ("evaluate-compliance", "--as-of", AS_OF),
    ):
        done = _ctwatch(*argv, cwd=tmp_path, **env)
        assert done.returncode == 0, done.stderr
    assert (data / "warehouse.duckdb").exists()
    sha = _sha256_of_linted(tmp_path)

    explained = _ctwatch("explain", sha, "--as-of", AS_OF, cwd=tmp_path, **env)
    assert explained.returncode == 0, explained.stderr
    assert "incident declared-here:" in explained.stdout

    # the same warehouse named by $CTWATCH_WAREHOUSE, without the file: the packaged incident, which
    # keeps to root stores, does not cover it
    packaged = _ctwatch(
        "explain", sha, "--as-of", AS_OF, cwd=tmp_path,
        CTWATCH_WAREHOUSE=str(data / "warehouse.duckdb"),
    )  # fmt: skip
    assert packaged.returncode == 0, packaged.stderr
    assert "no incident covers it: no root store includes its chain" in packaged.stdout

    missing = _ctwatch("explain", sha, cwd=tmp_path, CTWATCH_DATA_DIR=str(tmp_path / "nothing"))
    assert missing.returncode == 2
    nowhere = tmp_path / "nothing" / "warehouse.duckdb"
    assert missing.stderr.startswith(f"ctwatch explain: no warehouse at {nowhere}: ")
    assert missing.stderr.count("\n") == 1
