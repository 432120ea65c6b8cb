"""write_reports end to end on a warehouse evaluated through ctwatch.evaluate: folders, files,
plots, the crt.sh switch, re-run idempotence, and the command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from PIL import Image

from ctwatch.cli import main
from ctwatch.evaluate.config import load_config
from ctwatch.report import folder_name, write_reports
from ctwatch.report.plots import DPI, FIGURE_SIZE_IN
from tests.evaluate.conftest import utc
from tests.report.conftest import (
    CSV_HOSTILE,
    EVALUATED_AS_OF,
    EXPIRED,
    INCIDENT_ID,
    LATE,
    MARKDOWN_HOSTILE,
    ON_TIME,
    OVERDUE,
    REPORT_AS_OF,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FOLDER = folder_name(INCIDENT_ID)


@pytest.fixture
def out(tmp_path: Path, warehouse_file: Path, config_file: Path) -> Path:
    out_dir = tmp_path / "reports"
    write_reports(warehouse_file, REPORT_AS_OF, out_dir, config=load_config(config_file))
    return out_dir


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_folder_names_are_safe_and_distinct() -> None:
    assert FOLDER.startswith("ocsp-eku-2020-secom-trust-systems-")
    assert folder_name("../../etc/passwd:x") == f"etc-passwd-x-{folder_name('../../etc/passwd:x')[-8:]}"
    assert folder_name("a:b") != folder_name("a/b")  # same slug, different ids
    assert folder_name(":::").startswith("incident-")


def test_files_of_the_report(out: Path) -> None:
    assert sorted(_files(out)) == [
        "delay_distribution.png",
        "index.md",
        f"{FOLDER}/appendix.csv",
        f"{FOLDER}/incident.md",
        f"{FOLDER}/progress.csv",
        f"{FOLDER}/revocation_progress.png",
    ]
    rows = {r["Certificate SHA-256 hash"]: r for r in csv.DictReader(
        io.StringIO((out / FOLDER / "appendix.csv").read_text(encoding="utf-8"), newline="")
    )}  # fmt: skip
    assert {sha: r["Is revoked?"] for sha, r in rows.items()} == {
        ON_TIME: "Yes", LATE: "Delayed", OVERDUE: "Delayed", EXPIRED: "N/A",
    }  # fmt: skip
    assert rows[OVERDUE]["Revocation date"] == "2021-03-09T00:00:00Z"  # the CA's planned date
    assert rows[OVERDUE]["Subject"] == CSV_HOSTILE
    assert rows[LATE]["Verdict basis"].startswith("revoked_late; observed; delay 69d 00:00:00")
    assert rows[ON_TIME]["First observed revoked at"] == "2020-07-07T06:00:00Z"


def test_incident_markdown_from_the_evaluation(out: Path) -> None:
    text = (out / FOLDER / "incident.md").read_text(encoding="utf-8")
    assert "Report as of 2021-01-15 00:00 UTC (evaluation as of 2021-01-01 00:00 UTC)." in text
    assert f"`{MARKDOWN_HOSTILE.replace('|', chr(92) + '|')}`" in text  # `CN=<!channel> \| *x*`
    assert "- Number revoked: 2\n- Number not yet revoked: 1\n" in text
    assert "- Number planned for revocation that have expired: 1\n" in text
    assert "completed: 2021-03-09 00:00 UTC" in text
    # the SECOM-style table: revoked so far, remaining, expired at the end of each month
    assert "| 2020-07 | 2020-08-01 00:00 UTC | 4 | 1 | 1 | 3 | 0 |" in text
    assert "| 2020-10 | 2020-11-01 00:00 UTC | 4 | 2 | 2 | 1 | 1 |" in text
    assert "| 2020-12 | 2021-01-01 00:00 UTC | 4 | 2 | 2 | 1 | 1 |" in text
    # bug 1652610 linked by owner and whiteboard tag; the CA's updates 07-15, 07-20, 08-01, 08-30
    # (not the root-program comment of 07-25); comments known to 09-20: fetched 09-01, and the
    # 09-20 search saw no change since 08-30
    (bug_line,) = [line for line in text.splitlines() if line.startswith("- Bug 1652610: ")]
    assert "(filed 2020-07-15 00:00 UTC, ASSIGNED as of 2020-09-20 00:00 UTC; " in bug_line
    assert bug_line.endswith("3 search(es) seen)")
    rhythm = text.split(bug_line + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert rhythm == [
        "  - CA updates (public comments by the assignee `ca-compliance@secom.example`) from the filing "
        "to 2020-09-20 00:00 UTC: 4; longest gap 29 d; 7-day rhythm not kept; 4 gap(s) over the 3 days "
        "the IRG recommends",  # 07-15 to 07-20 (5 d) too
        "  - no update by the CA from 2020-07-20 00:00 UTC to 2020-08-01 00:00 UTC (12 d)",
        "  - no update by the CA from 2020-08-01 00:00 UTC to 2020-08-30 00:00 UTC (29 d)",
        "  - no update by the CA from 2020-08-30 00:00 UTC to at least 2020-09-20 00:00 UTC (21 d)",
    ]
    progress = (out / FOLDER / "progress.csv").read_bytes()
    assert progress.splitlines()[1:3] == [
        b"2020-07,2020-08-01T00:00:00Z,4,1,1,3,0", b"2020-08,2020-09-01T00:00:00Z,4,1,1,3,0",
    ]  # fmt: skip
    assert progress.endswith(b"2020-12,2021-01-01T00:00:00Z,4,2,2,1,1\r\n")


@pytest.mark.parametrize("name", [f"{FOLDER}/revocation_progress.png", "delay_distribution.png"])
def test_plots_are_matplotlib_pngs(out: Path, name: str) -> None:
    data = (out / name).read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert b"Matplotlib version" in data  # matplotlib's Software text, and no time stamp
    with Image.open(out / name) as image:
        image.verify()
    with Image.open(out / name) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width == FIGURE_SIZE_IN[0] * DPI
        assert height >= FIGURE_SIZE_IN[1] * DPI
        darkest, lightest = image.convert("L").getextrema()
        assert darkest < lightest  # something is drawn


def test_rerun_is_byte_identical_and_writes_nothing(
    out: Path, tmp_path: Path, warehouse_file: Path, config_file: Path
) -> None:
    before = _files(out)
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    summary = write_reports(warehouse_file, REPORT_AS_OF, out, config=load_config(config_file))
    assert summary.files_changed == 0
    assert _files(out) == before
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes
    fresh = tmp_path / "fresh"
    write_reports(warehouse_file, utc(2021, 1, 2), fresh, config=load_config(config_file))
    # another as-of showing the same evaluation: the same bytes but for the "as of" lines
    as_of_lines = {"index.md", f"{FOLDER}/incident.md"}
    assert {k: v for k, v in _files(fresh).items() if k not in as_of_lines} == {
        k: v for k, v in before.items() if k not in as_of_lines
    }


def test_large_incident_gives_the_crtsh_link_list(out: Path, warehouse_file: Path, config_file: Path) -> None:
    summary = write_reports(
        warehouse_file, REPORT_AS_OF, out, config=load_config(config_file), crtsh_threshold=4
    )
    assert summary.evaluated_as_of == EVALUATED_AS_OF
    files = _files(out)
    assert f"{FOLDER}/appendix.csv" not in files  # replaced, not kept stale
    links = files[f"{FOLDER}/crtsh_links.txt"].decode("ascii").splitlines()
    assert sorted(links) == sorted(
        f"https://crt.sh/?sha256={sha.upper()}" for sha in (ON_TIME, LATE, OVERDUE, EXPIRED)
    )
    assert "`crtsh_links.txt`" in files[f"{FOLDER}/incident.md"].decode()
    # below the threshold again: back to the CSV
    write_reports(warehouse_file, REPORT_AS_OF, out, config=load_config(config_file), crtsh_threshold=5)
    assert sorted(p.name for p in (out / FOLDER).iterdir()) == [
        "appendix.csv", "incident.md", "progress.csv", "revocation_progress.png",
    ]  # fmt: skip


def test_no_evaluation_yet(tmp_path: Path, warehouse_file: Path, config_file: Path) -> None:
    summary = write_reports(
        warehouse_file, utc(2020, 12, 31), tmp_path / "early", config=load_config(config_file)
    )
    assert (summary.evaluated_as_of, summary.incidents, summary.folders) == (None, 0, ())
    assert "No compliance evaluation" in (tmp_path / "early" / "index.md").read_text(encoding="utf-8")


def test_command_line(tmp_path: Path, warehouse_file: Path, config_file: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([
        "report", "--as-of", "2021-01-15", "--out", str(tmp_path / "cli"),
        "--warehouse", str(warehouse_file), "--config", str(config_file),
    ]) == 0  # fmt: skip
    assert f'"folders": ["{FOLDER}"]' in capsys.readouterr().out
    assert (tmp_path / "cli" / FOLDER / "appendix.csv").exists()
