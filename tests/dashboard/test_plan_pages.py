"""The incident page's 'Plan vs evidence' on a snapshot carrying the report tests' hand-built plan
(figures stated in tests.report.conftest.make_plan_progress): the tables, the late leaves a page at a
time, the plan downloads equal to the report files, the JSON, and hostile plan text shown as text."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from ctwatch import evaluate
from ctwatch.report import write_reports
from ctwatch.report.writer import folder_name
from tests.dashboard.conftest import LATE_LEAVES, SNAPSHOT_AS_OF
from tests.report.conftest import INCIDENT_ID, LATE_CRTSH_ID, LATE_IN_CT, PLAN_KEY, PLAN_LOG, PLAN_V1


def _rows(html: str, table: str) -> list[list[str]]:
    """The cells of a table's body rows, tags stripped."""
    found = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert found is not None, table
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", found[1], re.S)
    ]


def test_the_incident_page_sets_the_plan_against_the_evidence(planned_client: TestClient) -> None:
    html = planned_client.get("/incident", params={"id": INCIDENT_ID}).text
    assert '<h2 id="plan">Plan vs evidence</h2>' in html
    assert "baseline 50 leaves unexpired and unrevoked at it" in html
    promises = [row[:5] for row in _rows(html, "plan-milestones")]
    assert promises == [
        [
            "stop issuance (2020-07-28)",
            "no leaf issued after it",
            f"{LATE_LEAVES} issued after it",
            "—",
            "broken",
        ],
        ["2020-08-31", "20.0%", "16.0% (42 of 50 remain)", "-4.0", "within margin"],  # 8 of 50 replaced
        ["2020-09-30", "40.0%", "—", "—", "superseded"],
        ["2020-09-30", "30.0%", "24.0% (38 of 50 remain)", "-6.0", "behind"],  # 12 of 50, margin 5
        ["2020-10-31", "25 leaves replaced (50.0%)", "52.0% (24 of 50 remain)", "+2.0", "on plan"],
        ["2021-01-31", "80.0%", "—", "—", "not due"],
        ["key destruction (2021-04-30)", "1 key(s) destroyed", "—", "—", "not due"],
    ]
    assert '<tr data-state="behind">' in html
    assert f'2020-07-20T00:00:00Z <a href="{PLAN_V1}" rel="noopener noreferrer">' in html
    months = _rows(html, "plan-months")
    assert months[1] == ["2020-08-31", "20.0%", "16.0%", "42 of 50", "7", "1"]
    assert months[-1] == ["2020-12-31", "50.0%", "60.0%", "20 of 50", "29", "1"]
    for name in ("plan_progress.png", "plan_progress.csv"):
        assert f"name={name}" in html


def test_the_page_lists_fifty_late_leaves_and_counts_the_rest(planned_client: TestClient) -> None:
    html = planned_client.get("/incident", params={"id": INCIDENT_ID}).text
    late = _rows(html, "plan-late-leaves")
    assert len(late) == 50
    assert late[0] == [
        LATE_IN_CT, PLAN_KEY[:16], "2020-07-29T00:00:01Z",
        f"CT log {PLAN_LOG[:16]} entry 54 at 2020-07-29T00:01:00Z",
    ]  # fmt: skip
    assert f'crt.sh <a href="https://crt.sh/?id={LATE_CRTSH_ID}" rel="noopener noreferrer">' in html
    assert f"And {LATE_LEAVES - 50} more" in html


def test_the_api_gives_every_plan_point_and_late_leaf(planned_client: TestClient) -> None:
    plan = planned_client.get("/api/incident", params={"id": INCIDENT_ID}).json()["plan"]
    assert [p["state"] for p in plan["promises"]] == [
        "broken", "within_margin", "superseded", "behind", "on_plan", "not_due", "not_due",
    ]  # fmt: skip
    behind = plan["promises"][3]
    assert behind["planned_percent"] == 30
    assert behind["measured_percent"] == 24
    assert behind["difference_points"] == -6
    assert (behind["at"], behind["remaining"], behind["baseline"]) == ("2020-10-01T00:00:00Z", 38, 50)
    assert len(plan["measurements"]) == 6
    assert plan["late_leaf_count"] == len(plan["late_leaves"]) == LATE_LEAVES
    assert plan["late_leaves"][1]["crtsh_url"] == f"https://crt.sh/?id={LATE_CRTSH_ID}"


def test_without_a_plan_the_page_has_no_plan_section(client: TestClient) -> None:
    html = client.get("/incident", params={"id": INCIDENT_ID}).text
    assert "Plan vs evidence" not in html
    assert "plan_progress" not in html
    assert client.get("/api/incident", params={"id": INCIDENT_ID}).json()["plan"] is None


def test_plan_downloads_are_the_report_files_byte_for_byte(
    planned_client: TestClient, warehouse_file: Path, config_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    write_reports(warehouse_file, SNAPSHOT_AS_OF, out, config=evaluate.load_config(config_file))
    folder = out / folder_name(INCIDENT_ID)
    for name in ("plan_progress.csv", "plan_progress.png", "incident.md"):
        download = planned_client.get("/incident/file", params={"id": INCIDENT_ID, "name": name})
        assert download.status_code == 200
        assert download.content == (folder / name).read_bytes(), name


def test_hostile_plan_text_is_shown_as_text(planned_client: TestClient) -> None:
    html = planned_client.get("/incident", params={"id": INCIDENT_ID}).text
    assert "<script" not in html
    assert "<img src=x" not in html
    assert "<b>bold</b>" not in html
    # the source's URL part is a link, the rest text
    assert (
        '<a href="https://bugzilla.example/show_bug.cgi?id=1#c" rel="noopener noreferrer">'
        "https://bugzilla.example/show_bug.cgi?id=1#c</a>&lt;script&gt;alert(&#39;plan&#39;)&lt;/script&gt;"
    ) in html
    # the explanation: markup escaped, the URL linked without the colon that follows it
    assert (
        '<li>&lt;img src=x onerror=alert(2)&gt; see <a href="http://crl.example/a.crl" '
        'rel="noopener noreferrer">http://crl.example/a.crl</a>: &lt;b&gt;bold&lt;/b&gt;</li>'
    ) in html
