"""The snapshot: published beside and renamed into place, never moved back in time, and read
while a warehouse task holds DuckDB's write lock."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from ctwatch import evaluate
from ctwatch.dashboard.app import incident_rows
from ctwatch.dashboard.reader import open_snapshot
from ctwatch.dashboard.snapshot import publish_snapshot
from tests.dashboard.conftest import app_for, as_of_shown
from tests.evaluate.conftest import utc
from tests.report.conftest import EVALUATED_AS_OF

PAGE_BUDGET_S = 0.3
HOLD_LOCK = """
import sys, time
from ctwatch import warehouse
con = warehouse.connect(sys.argv[1])
con.execute("BEGIN TRANSACTION")
print("locked", flush=True)
time.sleep(60)
"""


def test_pages_answer_from_the_snapshot_while_a_task_holds_the_warehouse(
    snapshot_file: Path, warehouse_file: Path
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(warehouse_file)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        client = TestClient(app_for(snapshot_file))
        client.get("/incidents")  # the app's first request builds its templates
        for url in ("/incidents", "/sources", "/alerts", "/api/incidents"):
            started = time.monotonic()
            page = client.get(url)
            elapsed = time.monotonic() - started
            assert page.status_code == 200, url
            assert elapsed < PAGE_BUDGET_S, f"{url}: {elapsed:.3f} s"
        assert as_of_shown(client.get("/incidents").text) == EVALUATED_AS_OF
    finally:
        holder.kill()
        holder.wait()


def test_a_snapshot_of_the_past_does_not_replace_a_later_one(
    snapshot_file: Path, warehouse_file: Path, config_file: Path
) -> None:
    config = evaluate.load_config(config_file)
    earlier = publish_snapshot(warehouse_file, utc(2020, 12, 1), snapshot_file, config=config)
    assert earlier.published is False
    with open_snapshot(snapshot_file) as reader:
        assert reader is not None
        assert reader.meta()["as_of"] == "2021-01-15T00:00:00Z"
    later = publish_snapshot(warehouse_file, utc(2021, 2, 1), snapshot_file, config=config)
    assert later.published is True
    with open_snapshot(snapshot_file) as reader:
        assert reader is not None
        assert reader.meta()["as_of"] == "2021-02-01T00:00:00Z"


def test_a_reader_keeps_the_file_it_opened_while_a_new_one_is_renamed_in(
    snapshot_file: Path, warehouse_file: Path, config_file: Path
) -> None:
    config = evaluate.load_config(config_file)
    with open_snapshot(snapshot_file) as before:
        assert before is not None
        publish_snapshot(warehouse_file, utc(2021, 2, 1), snapshot_file, config=config)
        assert before.meta()["as_of"] == "2021-01-15T00:00:00Z"
        assert len(before.incidents()) == 1
    with open_snapshot(snapshot_file) as after:
        assert after is not None
        assert after.meta()["as_of"] == "2021-02-01T00:00:00Z"
    leftovers = [p.name for p in snapshot_file.parent.iterdir() if p.name != snapshot_file.name]
    assert leftovers == []


def test_before_any_evaluation_the_snapshot_says_so(
    tmp_path: Path, warehouse_file: Path, config_file: Path
) -> None:
    target = tmp_path / "early.sqlite"
    summary = publish_snapshot(
        warehouse_file, utc(2020, 1, 1), target, config=evaluate.load_config(config_file)
    )
    assert summary.evaluated_as_of is None
    page = TestClient(app_for(target)).get("/incidents").text
    assert "No compliance evaluation at or before 2020-01-01T00:00:00Z" in page
    assert "No incident as of this evaluation" in page


def _incident(
    incident_id: str, owner: str, status: str, late: int, next_deadline: str | None
) -> dict[str, object]:
    counts = {"on_time": 0, "late": late, "overdue": 0, "pending": 0, "expired": 0}
    return {"incident_id": incident_id, "ca_owner": owner, "status": status, "counts": counts,
            "next_deadline": next_deadline}  # fmt: skip


def test_incidents_filter_by_owner_and_status_and_sort_with_empty_values_last() -> None:
    rows = [
        _incident("a", "Owner A", "open", 3, "2020-07-09T00:00:00Z"),
        _incident("b", "Owner B", "closed", 5, None),
        _incident("c", "Owner A", "closed", 1, "2020-07-08T00:00:00Z"),
    ]
    ids = lambda found: [r["incident_id"] for r in found]  # noqa: E731
    assert ids(incident_rows(rows, None, None, "late", descending=True)) == ["b", "a", "c"]
    assert ids(incident_rows(rows, None, None, "late", descending=False)) == ["c", "a", "b"]
    assert ids(incident_rows(rows, None, None, "next_deadline", descending=False)) == ["c", "a", "b"]
    assert ids(incident_rows(rows, None, None, "next_deadline", descending=True)) == ["a", "c", "b"]
    assert ids(incident_rows(rows, "Owner A", None, "late", descending=True)) == ["a", "c"]
    assert ids(incident_rows(rows, "Owner A", "closed", "late", descending=True)) == ["c"]
