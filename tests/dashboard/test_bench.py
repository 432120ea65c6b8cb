"""The dashboard benchmark at a tiny size, run as `make bench` runs it (a child process): its figures
parse, the warehouse it generates holds what it was asked for, every page it timed answered 200.
No timing is asserted: the figures are for people to read on the machine that matters."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ctwatch import warehouse
from ctwatch.bench.dashboard import AS_OF, WAREHOUSE_FILE
from ctwatch.dashboard import app as dashboard_app
from ctwatch.dashboard.reader import open_snapshot
from ctwatch.dashboard.snapshot import snapshot_path
from ctwatch.evaluate import incidents, latest_evaluation, verdicts
from tests.conftest import REPO_ROOT
from tests.dashboard.conftest import app_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]
INCIDENTS, VERDICTS = 3, 60
PAGES = {
    "incidents", "incidents_sorted_late", "incidents_owner", "incident_largest", "incident_median",
    "certificate", "sources", "alerts", "api_incidents", "appendix_csv",
}  # fmt: skip
_LINE = re.compile(r"([a-z0-9_]+)=(\S+)")


@dataclass(frozen=True)
class BenchRun:
    figures: dict[str, str]
    out: Path


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> BenchRun:
    out = tmp_path_factory.mktemp("dashboard-bench")
    paths = [str(REPO_ROOT / "include"), str(REPO_ROOT / "plugins"), os.environ.get("PYTHONPATH", "")]
    command = [
        sys.executable, "-m", "ctwatch.bench.dashboard", "--incidents", str(INCIDENTS),
        "--verdicts", str(VERDICTS), "--repeat", "2", "--out", str(out),
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths))},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    matches = [_LINE.fullmatch(line) for line in lines]
    unparsed = [line for line, match in zip(lines, matches, strict=True) if match is None]
    assert unparsed == [], f"stdout holds only name=value lines: {unparsed}"
    return BenchRun({match[1]: match[2] for match in matches if match is not None}, out)


def test_the_figures_parse(bench: BenchRun) -> None:
    figures = bench.figures
    for name in ("generate_s", "snapshot_build_s", "pages_max_p95_ms", "load_average_1m"):
        assert float(figures[name]) >= 0
    assert int(figures["snapshot_bytes"]) > 0
    assert figures["budget_ms"] == "300"
    assert figures["within_budget"] in {"true", "false"}
    timed = {name[len("page_") : -len("_ms_p95")] for name in figures if name.endswith("_ms_p95")}
    assert timed == PAGES
    for page in PAGES:
        assert 0 < float(figures[f"page_{page}_ms_median"]) <= float(figures[f"page_{page}_ms_p95"])
    assert float(figures["pages_max_p95_ms"]) == max(float(figures[f"page_{p}_ms_p95"]) for p in PAGES)


def test_every_page_answered(bench: BenchRun) -> None:
    assert {page: bench.figures[f"page_{page}_status"] for page in PAGES} == dict.fromkeys(PAGES, "200")
    assert all(int(bench.figures[f"page_{page}_bytes"]) > 0 for page in PAGES)


def test_the_warehouse_holds_one_evaluation_of_the_requested_size(bench: BenchRun) -> None:
    assert (bench.figures["incidents"], bench.figures["verdicts"]) == (str(INCIDENTS), str(VERDICTS))
    con = warehouse.connect(bench.out / WAREHOUSE_FILE, read_only=True)
    try:
        assert latest_evaluation(con, AS_OF) == AS_OF
        stored_incidents = incidents(con, AS_OF)
        stored_verdicts = verdicts(con, AS_OF)
    finally:
        con.close()
    assert len(stored_incidents) == INCIDENTS
    assert len(stored_verdicts) == VERDICTS
    assert sum(i.certificates for i in stored_incidents) == VERDICTS
    assert len({v.status for v in stored_verdicts}) >= 3  # a mix, not one status everywhere
    with open_snapshot(snapshot_path(bench.out)) as reader:
        assert reader is not None
        shown = reader.incidents()
    assert len(shown) == INCIDENTS
    assert sum(i["certificates"] for i in shown) == VERDICTS


def test_a_large_incident_page_lists_its_certificates_a_page_at_a_time(
    bench: BenchRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What keeps the largest incident's page within the budget: a page of certificates at a time,
    saying so, every certificate on one of the pages."""
    monkeypatch.setattr(dashboard_app, "CERTIFICATES_PER_PAGE", 10)
    client = TestClient(app_for(snapshot_path(bench.out)))
    largest = max(client.get("/api/incidents").json()["incidents"], key=lambda i: i["certificates"])
    incident_id, total = largest["incident_id"], largest["certificates"]
    assert total > 20
    pages = -(-total // 10)
    seen: list[str] = []
    for number in range(1, pages + 1):
        page = client.get("/incident", params={"id": incident_id, "page": number})
        assert page.status_code == 200
        rows = re.findall(r'<tr data-sha256="([0-9a-f]{64})">', page.text)
        assert len(rows) == (10 if number < pages else total - 10 * (pages - 1))
        assert f"of {total}, the longest delays first (page {number} of {pages}" in page.text
        assert ("Next page" in page.text) == (number < pages)
        assert ("Previous page" in page.text) == (number > 1)
        seen += rows
    every = client.get("/api/incident", params={"id": incident_id}).json()["certificates"]
    assert sorted(seen) == sorted(c["der_sha256"] for c in every)
    assert client.get("/incident", params={"id": incident_id, "page": pages + 1}).status_code == 404
    assert client.get("/incident", params={"id": incident_id, "page": 0}).status_code == 422
