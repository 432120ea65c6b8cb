"""A declared plan against the evidence in the reports: the 'Plan vs evidence' section of incident.md,
plan_progress.csv and plan_progress.png, from the hand-built progress of conftest.make_plan_progress
(every expected cell below is worked out from the figures stated there), hostile text escaped, and
the writer's plan files end to end."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import timedelta
from pathlib import Path

from PIL import Image

from ctwatch import warehouse
from ctwatch.evaluate import PlanProgress, PointKind, PointState
from ctwatch.evaluate.config import load_config
from ctwatch.evaluate.plan_progress import LateLeaf
from ctwatch.evaluate.plan_store import save_plans
from ctwatch.report import folder_name, write_reports
from ctwatch.report.markdown import ReportInputs, incident_markdown
from ctwatch.report.plan_progress import PLAN_COLUMNS, plan_progress_csv
from ctwatch.report.plots import DPI, FIGURE_SIZE_IN, plan_progress_png
from ctwatch.report.progress import counts, delays, monthly_progress
from tests.report.conftest import (
    CRTSH_SEARCH,
    EVALUATED_AS_OF,
    INCIDENT_ID,
    LATE_CRTSH_ID,
    LATE_IN_CT,
    OWNER,
    PLAN_CRL,
    PLAN_KEY,
    PLAN_V1,
    PLAN_V2,
    REPORT_AS_OF,
    STOP_ISSUANCE,
    make_incident,
    make_plan_progress,
)

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
V1 = f"2020-07-20 00:00 UTC, `{PLAN_V1}`"
V2 = f"2020-09-10 00:00 UTC, `{PLAN_V2}`"
TAB_RED = (214, 39, 40)  # matplotlib's tab:red, the behind milestone's marker


def _markdown(plan: PlanProgress | None) -> str:
    incident = make_incident()
    return incident_markdown(
        ReportInputs(
            incident=incident, verdicts=(), key_groups=(), bugs=(),
            months=tuple(monthly_progress(incident, (), EVALUATED_AS_OF)), counts=counts(()),
            delays=delays(()), as_of=EVALUATED_AS_OF, evaluated_as_of=EVALUATED_AS_OF,
            certificate_list_file="appendix.csv", plan=plan,
        )
    )  # fmt: skip


def _section(text: str, heading: str) -> list[str]:
    """The lines under `heading` up to the next heading of any level."""
    after = text.split(f"\n{heading}\n", 1)[1]
    return [line for line in re.split(r"\n#{2,3} ", after, maxsplit=1)[0].splitlines() if line]


def _with_source(progress: PlanProgress, old: str, new: str) -> PlanProgress:
    return dataclasses.replace(
        progress,
        points=tuple(
            dataclasses.replace(p, plan_source=new) if p.plan_source == old else p for p in progress.points
        ),
    )


def test_the_plan_table_states_each_promise_against_the_evidence() -> None:
    lines = _section(_markdown(make_plan_progress()), "## Plan vs evidence")
    assert f"- Plan versions (announced, source): {V1}; {V2} (in force at the evaluation)" in lines
    assert "- Clock start: 2020-07-01 00:00 UTC" in lines
    assert "- Baseline: 50 leaves unexpired and unrevoked at the clock start" in lines
    assert f"- Issuing CA keys (SPKI SHA-256): `{PLAN_KEY}`" in lines
    assert "- Behind: a milestone due by the evaluation more than 5 points under its planned share" in lines
    table = [line for line in lines if line.startswith("| ") and "Milestone" not in line][:7]
    assert table == [
        # v2 in force at the as-of: its stop date; two leaves issued after it
        rf"| stop issuance \(2020\-07\-28\) | no leaf issued after it | 2 issued after it | — | broken "
        f"| {V2} |",
        # 8 of 50 replaced = 16%, planned 20%: 4 points behind, within the 5-point margin
        f"| 2020\\-08\\-31 | 20.0% | 16.0% (42 of 50 remain) | -4.0 | within margin | {V1} |",
        f"| 2020\\-09\\-30 | 40.0% | — | — | superseded | {V1} |",
        # 12 of 50 = 24%, planned 30%: 6 points, more than the margin
        f"| 2020\\-09\\-30 | 30.0% | 24.0% (38 of 50 remain) | -6.0 | **behind** | {V2} |",
        # 25 of 50 leaves planned; 26 of 50 = 52% replaced
        f"| 2020\\-10\\-31 | 25 leaves replaced (50.0%) | 52.0% (24 of 50 remain) | +2.0 | on plan | {V2} |",
        f"| 2021\\-01\\-31 | 80.0% | — | — | not due | {V2} |",
        f"| key destruction \\(2021\\-04\\-30\\) | 1 key(s) destroyed | — | — | not due | {V2} |",
    ]


def test_the_month_table_gives_what_remains_of_the_baseline() -> None:
    lines = _section(_markdown(make_plan_progress()), "## Plan vs evidence")
    start = lines.index(
        "| Month end / as-of | Planned | Measured | Remaining of baseline | Revoked | Expired |"
    )
    assert lines[start + 2 : start + 8] == [
        "| 2020\\-07\\-31 | 0.0% | 0.0% | 50 of 50 | 0 | 0 |",
        "| 2020\\-08\\-31 | 20.0% | 16.0% | 42 of 50 | 7 | 1 |",
        "| 2020\\-09\\-30 | 30.0% | 24.0% | 38 of 50 | 11 | 1 |",
        "| 2020\\-10\\-31 | 50.0% | 52.0% | 24 of 50 | 25 | 1 |",
        "| 2020\\-11\\-30 | 50.0% | 60.0% | 20 of 50 | 29 | 1 |",
        "| 2020\\-12\\-31 | 50.0% | 60.0% | 20 of 50 | 29 | 1 |",
    ]


def test_leaves_after_the_stop_date_name_their_ct_entry_or_crtsh_id() -> None:
    lines = _section(_markdown(make_plan_progress()), "### Leaves issued after the stop date")
    assert lines[0].startswith("2 leaves with a notBefore after the stop date 2020-07-29 00:00 UTC")
    assert lines[-2:] == [
        f"| `{LATE_IN_CT}` | `{PLAN_KEY[:16]}` | 2020-07-29 00:00 UTC | "
        "CT log `1111111111111111` entry 54 at 2020-07-29 00:01 UTC |",
        f"| `3004` | `{PLAN_KEY[:16]}` | 2020-07-30 00:00 UTC | "
        f"crt.sh `https://crt.sh/?id={LATE_CRTSH_ID}` |",
    ]


def test_more_than_fifty_late_leaves_are_counted_not_listed() -> None:
    many = tuple(
        LateLeaf(STOP_ISSUANCE, PLAN_KEY, f"{0x4000 + n:x}", STOP_ISSUANCE + timedelta(hours=n + 1),
                 STOP_ISSUANCE + timedelta(days=365), None, 1000 + n)
        for n in range(53)
    )  # fmt: skip
    lines = _section(_markdown(make_plan_progress(late_leaves=many)), "### Leaves issued after the stop date")
    assert lines[0].startswith("53 leaves with a notBefore after the stop date")
    assert sum(1 for line in lines if line.startswith("| `")) == 50
    assert "| `4031` |" in "\n".join(lines)  # the 50th, earliest first
    assert "`4032`" not in "\n".join(lines)
    assert lines[-1] == "And 3 more."


def test_how_the_figures_were_measured_keeps_urls_literal() -> None:
    lines = _section(_markdown(make_plan_progress()), "### How these figures were measured")
    assert (
        f"- crt\\.sh CA id 1121 \\(key {PLAN_KEY[:16]}\\)\\: `{CRTSH_SEARCH}`\\, 3 queries\\, 50 rows"
        in lines
    )
    assert f"- CRL `{PLAN_CRL}`\\: 3 verified versions" in lines  # the colon after it is prose
    at = lines.index("- 2020\\-08\\-31:")
    assert lines[at + 1] == (
        r"  - remaining 42 of the baseline 50 at 2020\-09\-01T00\:00\:00Z\: 7 revoked on a CRL by then\, "
        "1 expired by then"
    )
    assert "- key destruction \\(2021\\-04\\-30\\):" in lines


def test_without_a_plan_there_is_no_plan_section() -> None:
    assert "Plan vs evidence" not in _markdown(None)


def test_hostile_plan_source_and_explanation_stay_text() -> None:
    source = "javascript:alert(1) | *x* [y](javascript:z) <script>`tick`\nline"
    explanation = (
        "see [here](javascript:alert(2)) | **now** <img src=x onerror=alert(3)> http://a.example/`x`"
    )
    plan = _with_source(make_plan_progress(), PLAN_V2, source)
    plan = dataclasses.replace(
        plan,
        points=tuple(
            dataclasses.replace(p, explanation=(explanation,)) if p.kind is PointKind.KEY_DESTRUCTION else p
            for p in plan.points
        ),
        population=(explanation,),
    )
    text = _markdown(plan)
    (row,) = [line for line in text.splitlines() if line.startswith("| key destruction")]
    assert len(_UNESCAPED_PIPE.findall(row)) == 7  # six cells: the source's own pipe is escaped
    assert row.endswith(
        r"| 2020-09-10 00:00 UTC, ``javascript:alert(1) \| *x* [y](javascript:z) <script>`tick`\u000aline`` |"
    )
    escaped = (
        r"see \[here\]\(javascript\:alert\(2\)\) \| \*\*now\*\* \<img src\=x onerror\=alert\(3\)\> "
        "`` http://a.example/`x` ``"
    )
    assert f"- {escaped}" in text.splitlines()  # the population line
    assert f"  - {escaped}" in text.splitlines()  # the key destruction's explanation


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_plan_progress_csv_has_one_row_per_point() -> None:
    data = plan_progress_csv(make_plan_progress())
    assert data.startswith(",".join(PLAN_COLUMNS).encode() + b"\r\n")
    rows = _csv_rows(data)
    assert len(rows) == 13
    behind = next(r for r in rows if r["state"] == "behind")
    assert behind == {
        "kind": "milestone", "label": "2020-09-30", "measured_at": "2020-10-01T00:00:00Z",
        "plan_announced_at": "2020-09-10T00:00:00Z", "plan_source": PLAN_V2, "planned_percent": "30.00",
        "measured_percent": "24.00", "difference_points": "-6.00", "baseline": "50", "remaining": "38",
        "revoked": "11", "expired": "1", "state": "behind", "explanation": "",
    }  # fmt: skip
    superseded = next(r for r in rows if r["state"] == "superseded")
    assert (superseded["planned_percent"], superseded["measured_percent"], superseded["remaining"]) == (
        "40.00", "", "",
    )  # fmt: skip
    assert superseded["explanation"] == "superseded by the plan of 2020-09-10 before it fell due"


def test_plan_progress_csv_defuses_formulas_but_not_negative_numbers() -> None:
    plan = _with_source(make_plan_progress(), PLAN_V1, "=cmd|' /C calc'!A0")
    plan = dataclasses.replace(
        plan,
        points=tuple(
            dataclasses.replace(p, explanation=("@SUM(A1:A9)", "+1 second line"))
            if p.state is PointState.WITHIN_MARGIN
            else p
            for p in plan.points
        ),
    )
    rows = _csv_rows(plan_progress_csv(plan))
    within = next(r for r in rows if r["state"] == "within_margin")
    assert within["plan_source"] == "'=cmd|' /C calc'!A0"
    assert within["explanation"] == "'@SUM(A1:A9) | +1 second line"
    assert within["difference_points"] == "-4.00"  # a number, shown as one


def _picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def test_the_plot_is_a_deterministic_png_with_the_behind_milestone_highlighted() -> None:
    plan = make_plan_progress()
    data = plan_progress_png(plan, "SECOM $x$ Trust")
    assert data == plan_progress_png(plan, "SECOM $x$ Trust")
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"Matplotlib version" in data  # matplotlib's Software text, and no time stamp
    image = _picture(data)
    assert image.size == (FIGURE_SIZE_IN[0] * DPI, FIGURE_SIZE_IN[1] * DPI)
    darkest, lightest = image.convert("L").getextrema()
    assert darkest < lightest
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 20) or ()}
    assert TAB_RED in colours
    on_plan = dataclasses.replace(
        plan,
        points=tuple(
            dataclasses.replace(p, state=PointState.WITHIN_MARGIN) if p.state is PointState.BEHIND else p
            for p in plan.points
        ),
    )
    assert TAB_RED not in {c for _, c in _picture(plan_progress_png(on_plan, "x")).getcolors(1 << 20) or ()}


def test_the_plot_of_an_empty_baseline_says_so() -> None:
    plan = make_plan_progress()
    empty = dataclasses.replace(
        plan,
        points=tuple(
            dataclasses.replace(
                p, baseline=0, measured_percent=None, remaining=None, revoked=None, expired=None
            )
            for p in plan.points
        ),
        late_leaves=(),
    )
    data = plan_progress_png(empty, "x")
    assert data.startswith(b"\x89PNG")
    assert data != plan_progress_png(plan, "x")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_writer_adds_the_plan_files_and_drops_them_with_the_plan(
    tmp_path: Path, planned_warehouse_file: Path, config_file: Path
) -> None:
    out = tmp_path / "reports"
    config = load_config(config_file)
    write_reports(planned_warehouse_file, REPORT_AS_OF, out, config=config)
    folder = folder_name(INCIDENT_ID)
    before = _files(out)
    assert {f"{folder}/plan_progress.csv", f"{folder}/plan_progress.png"} <= set(before)
    # the stored progress, read back: the same bytes as from the hand-built one
    assert before[f"{folder}/plan_progress.csv"] == plan_progress_csv(make_plan_progress())
    assert before[f"{folder}/plan_progress.png"] == plan_progress_png(make_plan_progress(), OWNER)
    assert "\n## Plan vs evidence\n" in before[f"{folder}/incident.md"].decode()
    assert write_reports(planned_warehouse_file, REPORT_AS_OF, out, config=config).files_changed == 0
    assert _files(out) == before
    con = warehouse.connect(planned_warehouse_file)
    try:
        save_plans(con, EVALUATED_AS_OF, [])  # the evaluation again, the plan withdrawn
    finally:
        con.close()
    write_reports(planned_warehouse_file, REPORT_AS_OF, out, config=config)
    assert sorted(p.name for p in (out / folder).iterdir()) == [
        "appendix.csv", "incident.md", "progress.csv", "revocation_progress.png",
    ]  # fmt: skip
    assert "Plan vs evidence" not in (out / folder / "incident.md").read_text(encoding="utf-8")
