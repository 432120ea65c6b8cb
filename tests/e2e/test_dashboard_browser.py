"""The compliance dashboard in a real browser: Playwright driving Debian's Chromium against the real
Airflow API server, on `make demo`'s replay (as of 2020-09-07). Airflow's login in front of it, the
"Compliance" entry of the UI's navigation, the numbers against the verdicts and the truth
july2020.toml declares, sorting and filtering, the evidence links, the downloads equal to the
report files, and no script on the pages.

Screenshots of every page go to each test's tmp_path (printed: run with -s to see the paths).
`CTWATCH_README_SCREENSHOT=docs/dashboard-incidents.png` also writes the README's screenshot of
the incidents page (1280x800 viewport) there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from ctwatch.demo import SCENARIO_FILE
from ctwatch.evaluate.model import Verdict
from ctwatch.report.writer import folder_name
from ctwatch.sim.world import World
from ctwatch_airflow.launcher import (
    ADMIN_USER,
)
from tests.conftest import REPO_ROOT
from tests.services import unavailable

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
README_SCREENSHOT_ENV = "CTWATCH_README_SCREENSHOT"
README_SCREENSHOT = os.environ.get(README_SCREENSHOT_ENV)  # a path relative to the repository
AS_OF = "2020-09-07"
# The dashboard's count columns, by the verdict statuses each counts (written here from the
# statuses' meaning, not imported from the dashboard).
COLUMN_OF_STATUS = {
    "revoked_on_time": "on_time",
    "revoked_before_start": "on_time",
    "revoked_late": "late",
    "overdue": "overdue",
    "pending": "pending",
    "expired_unrevoked": "expired",
}
COUNT_COLUMNS = ("on_time", "late", "overdue", "pending", "expired")


@dataclass(frozen=True)
class Airflow:
    base_url: str
    password: str

    def dashboard(self, path: str) -> str:
        return f"{self.base_url}/ctwatch{path}"


def _install_chromium() -> Path | None:
    """Debian's Chromium, installed with apt-get when missing and we are root (as `make bench`
    installs certspotter); None when it is missing and cannot be installed here."""
    if CHROMIUM.exists() or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return CHROMIUM if CHROMIUM.exists() else None
    print("# installing chromium with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    if subprocess.run(install, env=env, check=False, capture_output=True).returncode != 0:
        # a fresh machine has no package lists yet
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False, capture_output=True)
        subprocess.run(install, env=env, check=False, capture_output=True)
    return CHROMIUM if CHROMIUM.exists() else None


@pytest.fixture(scope="module")
def airflow(demo: dict[str, Any]) -> Airflow:
    """The demo's own Airflow, kept up by `--serve` on its data folder (ctwatch.toml, warehouse,
    snapshot, AIRFLOW_HOME) with the live schedule off."""
    return Airflow(demo["base_url"], demo["password"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = _install_chromium()
    if chromium is None:
        unavailable(f"{CHROMIUM} is missing and could not be installed (apt-get install chromium, as root)")
    # Playwright's own browser download is unreachable here: Debian's Chromium instead.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium),
            headless=True,
            args=["--no-sandbox"] if os.geteuid() == 0 else [],  # Chromium's sandbox refuses root
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def logged_in(browser: Browser, airflow: Airflow) -> Iterator[BrowserContext]:
    """A browser session logged in through the Airflow UI's login page, as a person would."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{airflow.base_url}/auth/login")
    page.fill("input[name=username]", ADMIN_USER)
    page.fill("input[name=password]", airflow.password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/login" not in url)
    assert any(cookie["name"] == "_token" for cookie in context.cookies()), "no _token cookie set"
    page.close()
    yield context
    context.close()


@pytest.fixture
def page(logged_in: BrowserContext) -> Iterator[Page]:
    opened = logged_in.new_page()
    yield opened
    opened.close()


def _screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot {name}: {path}")
    return path


def _shows_the_as_of(page: Page) -> None:
    expect(page.locator("#as-of")).to_contain_text(AS_OF)


def _rows(page: Page) -> list[dict[str, str]]:
    """The incidents table as displayed: per row its id, owner and the cells with data-column."""
    rows = []
    for row in page.locator("#incidents tbody tr[data-incident]").all():
        cells = {
            cell.get_attribute("data-column") or "": cell.inner_text().strip()
            for cell in row.locator("td[data-column]").all()
        }
        owner = row.locator("td").nth(1).inner_text().strip()
        rows.append({"incident": row.get_attribute("data-incident") or "", "owner": owner, **cells})
    return rows


def _counts_by_incident(verdicts: list[Verdict]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for verdict in verdicts:
        counts.setdefault(verdict.incident_id, Counter())[COLUMN_OF_STATUS[str(verdict.status)]] += 1
    return {incident: {c: counted[c] for c in COUNT_COLUMNS} for incident, counted in counts.items()}


def _declared_by_owner(world: World) -> dict[str, Counter[str]]:
    """Late and overdue certificates per CA owner, from july2020.toml's hand-written verdicts."""
    declared = tomllib.loads(SCENARIO_FILE.read_text(encoding="utf-8"))["expected_verdicts"]
    by_owner: dict[str, Counter[str]] = {}
    for expected in declared:
        owner = world.ca_certs[expected["cert"]].spec.owner
        by_owner.setdefault(owner, Counter())[COLUMN_OF_STATUS[expected["status"]]] += 1
    return by_owner


def test_anonymous_requests_are_refused(airflow: Airflow) -> None:
    for url in (airflow.dashboard("/incidents"), airflow.dashboard("/api/incidents")):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=30)
        assert refused.value.code == 401, url


def test_the_airflow_ui_has_a_compliance_entry_opening_the_dashboard(
    page: Page, airflow: Airflow, tmp_path: Path
) -> None:
    page.goto(f"{airflow.base_url}/")
    entry = page.get_by_role("link", name="Compliance")
    expect(entry).to_be_visible()
    _screenshot(page, tmp_path, "airflow-ui")
    entry.click()
    # Airflow 3.3 shows an external view with a url_route at /plugin/<url_route>, in an iframe
    page.wait_for_url(f"{airflow.base_url}/plugin/compliance")
    frame = page.frame_locator("iframe")
    expect(frame.locator("#incidents")).to_be_visible()
    assert page.locator("iframe").get_attribute("src") == "/ctwatch/incidents"
    _screenshot(page, tmp_path, "airflow-ui-compliance")


def test_the_incidents_page_shows_the_verdicts_counts(
    page: Page, airflow: Airflow, demo: dict[str, Any], tmp_path: Path
) -> None:
    page.goto(airflow.dashboard("/incidents"))
    _shows_the_as_of(page)
    rows = _rows(page)
    expected = _counts_by_incident(demo["verdicts"])
    assert {row["incident"] for row in rows} == set(expected)
    for row in rows:
        shown = {column: int(row[column]) for column in COUNT_COLUMNS}
        assert shown == expected[row["incident"]], row["incident"]
        assert int(row["certificates"]) == sum(shown.values()), row["incident"]
    # Per CA owner, the late and overdue counts the page shows are the ones declared by hand
    declared = _declared_by_owner(demo["world"])
    assert {row["owner"] for row in rows} == set(declared)
    for owner, counts in declared.items():
        for column in ("late", "overdue"):
            shown_total = sum(int(row[column]) for row in rows if row["owner"] == owner)
            assert shown_total == counts[column], (owner, column)
    # Hostile certificate text is covered by tests/dashboard; here: the browser runs no script
    assert page.evaluate("document.scripts.length") == 0
    _screenshot(page, tmp_path, "incidents")
    if README_SCREENSHOT:
        page.screenshot(path=str(REPO_ROOT / README_SCREENSHOT), full_page=False)
        print(f"README screenshot: {REPO_ROOT / README_SCREENSHOT}")


def _column(page: Page, column: str) -> list[int]:
    return [int(row[column]) for row in _rows(page)]


def test_the_incidents_sort_by_a_column_and_filter_by_owner(
    page: Page, airflow: Airflow, demo: dict[str, Any]
) -> None:
    page.goto(airflow.dashboard("/incidents"))
    late = _column(page, "late")
    assert len(set(late)) > 1, "every incident has as many late certificates: sorting shows nothing"
    page.click("a.sort[data-column=late]")
    page.wait_for_url("**order=asc**")
    assert _column(page, "late") == sorted(late)
    page.click("a.sort[data-column=late]")
    page.wait_for_url("**order=desc**")
    assert _column(page, "late") == sorted(late, reverse=True)

    owners = Counter(v.ca_owner for v in {v.incident_id: v for v in demo["verdicts"]}.values())
    owner = "Sim DigiSign"
    page.select_option("select[name=owner]", owner)
    page.click("#filters button[type=submit]")
    page.wait_for_url("**owner=Sim+DigiSign**")
    _shows_the_as_of(page)
    shown = _rows(page)
    assert len(shown) == owners[owner] > 0
    assert {row["owner"] for row in shown} == {owner}


def _late_incident(verdicts: list[Verdict]) -> tuple[str, str]:
    """An incident with a late revocation, and that certificate (a CRL listed it)."""
    late = sorted((v.incident_id, v.der_sha256) for v in verdicts if v.status == "revoked_late")
    assert late, "the demo has late revocations"
    return late[0]


def test_links_lead_from_the_incident_to_the_certificate_and_its_evidence(
    page: Page, airflow: Airflow, demo: dict[str, Any], tmp_path: Path
) -> None:
    incident_id, sha256 = _late_incident(demo["verdicts"])
    page.goto(airflow.dashboard("/incidents"))
    page.locator(f'tr[data-incident="{incident_id}"] td').first.get_by_role("link").click()
    page.wait_for_url("**/ctwatch/incident?id=*")
    expect(page.locator("h1")).to_have_text(incident_id)
    _shows_the_as_of(page)
    expected = {v.der_sha256 for v in demo["verdicts"] if v.incident_id == incident_id}
    listed = page.locator("#certificates tbody tr[data-sha256]")
    assert {row.get_attribute("data-sha256") for row in listed.all()} == expected
    _screenshot(page, tmp_path, "incident")

    page.locator(f'tr[data-sha256="{sha256}"] td').first.get_by_role("link").click()
    page.wait_for_url(f"**/ctwatch/certificate/{sha256}")
    _shows_the_as_of(page)
    assert page.locator("#crtsh").get_attribute("href") == f"https://crt.sh/?sha256={sha256}"
    ct_links = [a.get_attribute("href") or "" for a in page.locator("#ct a").all()]
    assert ct_links, "no link to the certificate's CT entry"
    assert all("/ct/v1/get-entries?start=" in link for link in ct_links), ct_links
    crl_links = page.locator('a[href$=".crl"]')
    assert crl_links.count() > 0, "no link to the CRL that listed it"
    _screenshot(page, tmp_path, "certificate")


def test_the_downloads_are_the_report_files_byte_for_byte(
    page: Page, airflow: Airflow, demo: dict[str, Any]
) -> None:
    incident_id, _ = _late_incident(demo["verdicts"])
    page.goto(airflow.dashboard(f"/incident?id={incident_id}"))
    folder = demo["data"] / "reports" / folder_name(incident_id)
    for name in ("appendix.csv", "incident.md"):
        with page.expect_download() as started:
            page.locator("a.download", has_text=name).click()
        download = started.value
        assert download.suggested_filename == name
        assert Path(download.path()).read_bytes() == (folder / name).read_bytes(), name


def test_the_sources_and_alerts_pages_show_their_tables(
    page: Page, airflow: Airflow, demo: dict[str, Any], tmp_path: Path
) -> None:
    page.goto(airflow.dashboard("/sources"))
    _shows_the_as_of(page)
    assert page.locator("#sources tbody tr[data-source]").count() > 0
    assert page.locator("#ct-logs tbody tr[data-log]").count() == len(demo["world"].logs)
    _screenshot(page, tmp_path, "sources")

    page.goto(airflow.dashboard("/alerts"))
    _shows_the_as_of(page)
    assert page.locator("#alerts tbody tr").count() == len(demo["alerts"])
    _screenshot(page, tmp_path, "alerts")
