"""The report task: the stored evaluation as of a date -> one folder per incident, plus plots.

Layout under `out_dir`:

    delay_distribution.png          delays per CA owner, across the report's incidents
    index.md                        the incidents and their folders
    <slug of the incident id>-<8 hex>/
        appendix.csv | crtsh_links.txt   (IRG v3.2: the link list at >= 10,000 certificates)
        incident.md
        plan_progress.csv, plan_progress.png   (only when the incident has a declared plan)
        progress.csv
        revocation_progress.png

Folder names come from the incident id only (lower-case letters, digits, `-`, and a hash of the
id so two ids never share a folder), never from certificate text. Files are written only when
their bytes change, each through a temporary file and a rename; a re-run with the same data
leaves every byte and time stamp as it was. Only the files named above are managed: a folder's
file its incident no longer has (the other certificate-list form, the plan files once the plan is
gone) is removed; folders of incidents a later evaluation no longer has are left alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

import duckdb

from ctwatch import warehouse
from ctwatch.alerts.format import escape_markdown, markdown_literal
from ctwatch.evaluate import (
    EvaluationConfig,
    Incident,
    PlanProgress,
    Verdict,
    incidents,
    key_group_status,
    latest_evaluation,
    load_config,
    read_plans,
    verdicts,
)
from ctwatch.report.appendix import CRTSH_LIST_THRESHOLD, appendix_csv, crtsh_links
from ctwatch.report.bugs import linked_bugs
from ctwatch.report.markdown import ReportInputs, incident_markdown, when
from ctwatch.report.plan_progress import plan_progress_csv
from ctwatch.report.plots import delay_distribution_png, plan_progress_png, revocation_progress_png
from ctwatch.report.progress import counts, delays, monthly_progress, progress_csv
from ctwatch.timeutil import require_aware

log = logging.getLogger(__name__)

APPENDIX_FILE: Final = "appendix.csv"
CRTSH_LINKS_FILE: Final = "crtsh_links.txt"
INCIDENT_FILE: Final = "incident.md"
PROGRESS_FILE: Final = "progress.csv"
PROGRESS_PLOT_FILE: Final = "revocation_progress.png"
PLAN_PROGRESS_FILE: Final = "plan_progress.csv"
PLAN_PLOT_FILE: Final = "plan_progress.png"
# Files a folder has only in some evaluations: the certificate list changes form across the crt.sh
# threshold, the plan files come with a plan. The write removes the ones an evaluation lacks.
_OPTIONAL_FILES: Final = (APPENDIX_FILE, CRTSH_LINKS_FILE, PLAN_PROGRESS_FILE, PLAN_PLOT_FILE)
DELAY_PLOT_FILE: Final = "delay_distribution.png"
INDEX_FILE: Final = "index.md"
_SLUG_CHARS: Final = 60


@dataclass(frozen=True, slots=True)
class ReportSummary:
    as_of: datetime
    evaluated_as_of: datetime | None  # None: nothing evaluated at or before as_of
    incidents: int
    certificates: int
    folders: tuple[str, ...]
    files_changed: int  # written because new or different


def folder_name(incident_id: str) -> str:
    """A safe, unique folder name for an incident, e.g. 'ocsp-eku-2020-secom-trust-systems-1a2b3c4d'."""
    slug = re.sub(r"[^a-z0-9]+", "-", incident_id.lower()).strip("-")[:_SLUG_CHARS].strip("-")
    digest = hashlib.sha256(incident_id.encode("utf-8")).hexdigest()[:8]
    return f"{slug or 'incident'}-{digest}"


def render_incident(
    con: duckdb.DuckDBPyConnection,
    incident: Incident,
    incident_verdicts: tuple[Verdict, ...],
    *,
    as_of: datetime,
    evaluated_as_of: datetime,
    config: EvaluationConfig,
    plan: PlanProgress | None,
    crtsh_threshold: int = CRTSH_LIST_THRESHOLD,
) -> dict[str, bytes]:
    """The files of one incident's folder, by name (`plan`: its plan's progress at the evaluation)."""
    large = len(incident_verdicts) >= crtsh_threshold
    certificate_list_file = CRTSH_LINKS_FILE if large else APPENDIX_FILE
    declared = next((d for d in config.incidents if d.incident_key == incident.declared_id), None)
    months = tuple(monthly_progress(incident, incident_verdicts, evaluated_as_of))
    key_groups = tuple(key_group_status(con, evaluated_as_of, incident.incident_id))
    inputs = ReportInputs(
        incident=incident,
        verdicts=incident_verdicts,
        key_groups=key_groups,
        bugs=tuple(
            linked_bugs(con, evaluated_as_of, incident.ca_owner, declared.bug_ids if declared else ())
        ),
        months=months,
        counts=counts(incident_verdicts),
        delays=delays(incident_verdicts),
        as_of=as_of,
        evaluated_as_of=evaluated_as_of,
        certificate_list_file=certificate_list_file,
        plan=plan,
    )
    files = {
        certificate_list_file: (
            crtsh_links(incident_verdicts) if large else appendix_csv(incident_verdicts, key_groups)
        ),
        INCIDENT_FILE: incident_markdown(inputs).encode("utf-8"),
        PROGRESS_FILE: progress_csv(months),
        PROGRESS_PLOT_FILE: revocation_progress_png(incident, incident_verdicts, evaluated_as_of),
    }
    if plan is not None:
        files[PLAN_PROGRESS_FILE] = plan_progress_csv(plan)
        files[PLAN_PLOT_FILE] = plan_progress_png(plan, incident.ca_owner)
    return files


def _index(as_of: datetime, evaluated_as_of: datetime | None, folders: Mapping[str, Incident]) -> bytes:
    lines = [f"# ctwatch reports as of {when(as_of)}", ""]
    if evaluated_as_of is None:
        lines.append("No compliance evaluation at or before this time: run `evaluate_compliance` first.")
    else:
        lines += [f"Evaluation as of {when(evaluated_as_of)}.", ""]
        lines += [
            f"- `{folder}/`: {markdown_literal(i.incident_id)} ({escape_markdown(i.ca_owner)}, "
            f"{i.certificates} certificates, {markdown_literal(i.status)})"
            for folder, i in folders.items()
        ]
        lines += ["", f"Delays per CA owner: `{DELAY_PLOT_FILE}`."]
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_reports(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime,
    *,
    config: EvaluationConfig,
    crtsh_threshold: int = CRTSH_LIST_THRESHOLD,
) -> tuple[datetime | None, dict[str, Incident], dict[str, bytes]]:
    """(evaluation shown, incidents by folder, file bytes by path relative to the output folder)."""
    evaluated_as_of = latest_evaluation(con, as_of)
    if evaluated_as_of is None:
        return None, {}, {INDEX_FILE: _index(as_of, None, {})}
    all_verdicts = verdicts(con, evaluated_as_of)
    by_incident: dict[str, list[Verdict]] = {}
    for verdict in all_verdicts:
        by_incident.setdefault(verdict.incident_id, []).append(verdict)
    plans = read_plans(con, evaluated_as_of)
    by_owner: dict[str, list[Verdict]] = {}
    folders: dict[str, Incident] = {}
    files: dict[str, bytes] = {}
    for incident in sorted(incidents(con, evaluated_as_of), key=lambda i: i.incident_id):
        folder = folder_name(incident.incident_id)
        folders[folder] = incident
        own = tuple(by_incident.get(incident.incident_id, ()))
        by_owner.setdefault(incident.ca_owner, []).extend(own)
        rendered = render_incident(
            con, incident, own, as_of=as_of, evaluated_as_of=evaluated_as_of, config=config,
            plan=plans.get(incident.incident_id), crtsh_threshold=crtsh_threshold,
        )  # fmt: skip
        files.update({f"{folder}/{name}": data for name, data in rendered.items()})
    files[DELAY_PLOT_FILE] = delay_distribution_png(by_owner)
    files[INDEX_FILE] = _index(as_of, evaluated_as_of, folders)
    return evaluated_as_of, folders, files


def _write_if_changed(path: Path, data: bytes) -> bool:
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # a sibling temporary file (same file system, permissions from the umask), then a rename:
    # a reader never sees half a file
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return True


def write_reports(
    warehouse_file: Path,
    as_of: datetime,
    out_dir: Path,
    *,
    config: EvaluationConfig | None = None,
    crtsh_threshold: int = CRTSH_LIST_THRESHOLD,
) -> ReportSummary:
    """Write the reports of the evaluation as of `as_of` (latest at or before it) under `out_dir`.

    `config`: the declarations (None: the packaged July 2020 incident), read for the bugs a
    declared incident links.
    """
    require_aware(as_of, "as_of")
    config = config or load_config()
    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        evaluated_as_of, folders, files = render_reports(
            con, as_of, config=config, crtsh_threshold=crtsh_threshold
        )
    finally:
        con.close()
    changed = sum(_write_if_changed(out_dir / name, data) for name, data in sorted(files.items()))
    for folder in folders:
        for name in _OPTIONAL_FILES:
            if f"{folder}/{name}" not in files:
                (out_dir / folder / name).unlink(missing_ok=True)
    summary = ReportSummary(
        as_of=as_of,
        evaluated_as_of=evaluated_as_of,
        incidents=len(folders),
        certificates=sum(i.certificates for i in folders.values()),
        folders=tuple(folders),
        files_changed=changed,
    )
    log.info(
        "reports as of %s (evaluation %s): %d incidents, %d files changed in %s",
        as_of.isoformat(), evaluated_as_of.isoformat() if evaluated_as_of else None,
        summary.incidents, changed, out_dir,
    )  # fmt: skip
    return summary
