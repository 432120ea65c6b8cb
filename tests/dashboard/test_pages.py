"""The dashboard's pages on a snapshot of a hand-built incident: the numbers a reviewer reads,
the evidence links, the downloads equal to the report files, hostile text shown as text."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from ctwatch import evaluate
from ctwatch.report import write_reports
from ctwatch.report.writer import folder_name
from tests.dashboard.conftest import MARKUP_SUMMARY, SCRIPT_SUBJECT, SNAPSHOT_AS_OF, app_for, as_of_shown
from tests.evaluate.conftest import utc
from tests.report.conftest import BUG_ID, EVALUATED_AS_OF, EXPIRED, INCIDENT_ID, LATE, ON_TIME, OVERDUE

DEADLINE = utc(2020, 7, 8)


def test_the_incidents_page_counts_what_the_world_declares(client: TestClient) -> None:
    page = client.get("/incidents")
    assert page.status_code == 200
    assert as_of_shown(page.text) == EVALUATED_AS_OF
    (incident,) = client.get("/api/incidents").json()["incidents"]
    assert incident["incident_id"] == INCIDENT_ID
    # on time: revoked 07-07; late: revoked 09-15; overdue: never revoked; expired 10-15 unrevoked
    assert incident["counts"] == {"on_time": 1, "late": 1, "overdue": 1, "expired": 1, "pending": 0}
    assert incident["certificates"] == 4
    assert incident["next_deadline"] is None  # nothing pending
    # the overdue certificate: from the deadline 2020-07-08 to the evaluation 2021-01-01
    assert incident["max_delay_s"] == (EVALUATED_AS_OF - DEADLINE).total_seconds() == 177 * 86400
    row = re.search(rf'<tr data-incident="{re.escape(INCIDENT_ID)}">(.*?)</tr>', page.text, re.S)
    assert row is not None
    cells = dict(re.findall(r'data-column="(\w+)">([^<]*)<', row[1]))
    assert (cells["on_time"], cells["late"], cells["overdue"], cells["expired"]) == ("1", "1", "1", "1")
    assert cells["max_delay"] == "177 d"
    assert f"show_bug.cgi?id={BUG_ID}" in row[1]


def test_the_incident_page_lists_each_certificate_with_its_verdict(client: TestClient) -> None:
    page = client.get("/incident", params={"id": INCIDENT_ID})
    assert page.status_code == 200
    statuses = dict(re.findall(r'<tr data-sha256="([0-9a-f]{64})">.*?<td>(\w+)</td><td>', page.text, re.S))
    assert statuses == {
        ON_TIME: "revoked_on_time", LATE: "revoked_late", OVERDUE: "overdue", EXPIRED: "expired_unrevoked",
    }  # fmt: skip
    assert "177 d" in page.text  # the overdue certificate's delay so far
    for image in ("revocation_progress.png", "delay_distribution.png"):
        assert f"name={image}" in page.text
        picture = client.get("/incident/file", params={"id": INCIDENT_ID, "name": image})
        assert picture.content.startswith(b"\x89PNG")


def test_downloads_are_the_report_files_byte_for_byte(
    client: TestClient, warehouse_file: Path, config_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    write_reports(warehouse_file, SNAPSHOT_AS_OF, out, config=evaluate.load_config(config_file))
    folder = out / folder_name(INCIDENT_ID)
    for name in ("appendix.csv", "incident.md", "progress.csv"):
        download = client.get("/incident/file", params={"id": INCIDENT_ID, "name": name})
        assert download.status_code == 200
        assert download.headers["content-disposition"] == f'attachment; filename="{name}"'
        assert download.content == (folder / name).read_bytes(), name


def test_hostile_certificate_and_bug_text_is_shown_as_text(client: TestClient) -> None:
    pages = [
        client.get("/incidents").text,
        client.get("/incident", params={"id": INCIDENT_ID}).text,
        client.get(f"/certificate/{ON_TIME}").text,
    ]
    for html in pages:
        assert "<script" not in html
        assert "<img src=x" not in html
        assert "<b>Delayed</b>" not in html
    assert "CN=&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;,O=Evil" in pages[1]
    assert "SECOM: &lt;b&gt;Delayed&lt;/b&gt; Revocation &lt;img src=x onerror=alert(1)&gt;" in pages[1]
    assert SCRIPT_SUBJECT not in "".join(pages)
    assert MARKUP_SUMMARY not in "".join(pages)
    assert "script-src" not in client.get("/incidents").headers["content-security-policy"]  # none at all


def test_the_certificate_page_links_its_evidence(client: TestClient) -> None:
    page = client.get(f"/certificate/{LATE}")
    assert page.status_code == 200
    assert f'href="https://crt.sh/?sha256={LATE}"' in page.text
    assert f'href="https://bugzilla.mozilla.org/show_bug.cgi?id={BUG_ID}"' in page.text
    assert "revoked_late" in page.text
    # the CRL that first listed it, with the stored version's hash: a link to its URL
    links = re.findall(r'<a href="(http[^"]+)"', page.text)
    assert any(link.endswith(".crl") for link in links), links
    assert re.search(r"thisUpdate 2020-09-15T06:00:00Z", page.text)


def test_the_sources_and_alerts_pages_answer(client: TestClient) -> None:
    assert client.get("/sources").status_code == 200
    alerts = client.get("/api/alerts").json()["alerts"]
    page = client.get("/alerts").text
    assert alerts, "the evaluation enqueued alerts"
    assert all(a["occurred_at"] <= EVALUATED_AS_OF.isoformat().replace("+00:00", "Z") for a in alerts)
    assert f"{len(alerts)} alerts in the outbox" in page


def test_without_a_snapshot_the_pages_say_what_to_do_next(tmp_path: Path) -> None:
    client = TestClient(app_for(tmp_path / "none.sqlite"))
    for url in ("/incidents", "/sources", "/alerts"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "No dashboard snapshot yet" in page.text
        assert "evaluate_compliance" in page.text
    assert client.get("/incident", params={"id": INCIDENT_ID}).status_code == 404


def test_a_malformed_request_is_refused_cleanly(client: TestClient) -> None:
    assert client.get("/incidents", params={"sort": "drop table"}).status_code == 400
    assert (
        client.get("/incident/file", params={"id": INCIDENT_ID, "name": "../../etc/passwd"}).status_code
        == 404
    )
    assert client.get(f"/certificate/{'00' * 32}").status_code == 404
