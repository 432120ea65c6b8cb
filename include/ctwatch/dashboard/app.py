"""The compliance dashboard: HTML pages and their JSON, read from the published snapshot.

`create_app(snapshot_file, guard)`: every route depends on `guard`, the caller's authentication
(Airflow's own in the plugin). Every text from a certificate, a CA or a bug is escaped by the
templates' autoescaping; links are built only from http(s) URLs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from ctwatch.alerts.format import format_delay
from ctwatch.dashboard.reader import SnapshotReader, open_snapshot
from ctwatch.dashboard.snapshot import STATUS_COLUMNS
from ctwatch.report.markdown import URL_IN_PROSE
from ctwatch.report.plan_progress import MAX_LATE_LEAVES_LISTED

DOWNLOADS: Final = {
    "appendix.csv": "text/csv; charset=utf-8",
    "crtsh_links.txt": "text/plain; charset=utf-8",
    "incident.md": "text/markdown; charset=utf-8",
    "progress.csv": "text/csv; charset=utf-8",
    "plan_progress.csv": "text/csv; charset=utf-8",
    "revocation_progress.png": "image/png",
    "delay_distribution.png": "image/png",
    "plan_progress.png": "image/png",
}
INCIDENT_COLUMNS: Final = (
    "ca_owner", "rule_id", "status", *STATUS_COLUMNS, "next_deadline", "max_delay_s", "certificates",
)  # fmt: skip
ALERTS_SHOWN: Final = 500
# Certificates an incident page lists at a time: rendering stays within the page budget however large
# the incident (every certificate is in the incident's downloads and /api/incident).
CERTIFICATES_PER_PAGE: Final = 200
# No script at all; inline styles only (the page's own <style>); framed only by the Airflow UI.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self';"
    " frame-ancestors 'self'"
)


def _days(seconds: float | None) -> str:
    return "—" if seconds is None else format_delay(timedelta(seconds=seconds))


def _linkify(text: str | None) -> Markup:
    """`text` escaped, its http(s) URLs made links."""
    text = text or ""
    parts: list[Markup] = []
    last = 0
    for match in URL_IN_PROSE.finditer(text):
        url = match.group(0)
        parts += [escape(text[last : match.start()]), _link(url)]
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def _link(url: str) -> Markup:
    # `%` escapes like Markup.format at less than half the cost; every certificate row has a link.
    return Markup('<a href="%s" rel="noopener noreferrer">%s</a>') % (url, url)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ctwatch.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["days"] = _days
    env.filters["linkify"] = _linkify
    env.filters["q"] = lambda value: quote(str(value), safe="")
    env.globals["time_left"] = _time_left
    return env


def _time_left(deadline: str | None, as_of: str | None) -> str:
    """From `as_of` to `deadline` (ISO 8601), in words."""
    if not deadline or not as_of:
        return "—"
    left = datetime.fromisoformat(deadline) - datetime.fromisoformat(as_of)
    return format_delay(left) if left >= timedelta(0) else f"passed {format_delay(-left)} ago"


def _sort_value(incident: Mapping[str, Any], column: str) -> Any:
    return incident["counts"][column] if column in STATUS_COLUMNS else incident.get(column)


def incident_rows(
    incidents: Sequence[dict[str, Any]], owner: str | None, status: str | None, sort: str, descending: bool
) -> list[dict[str, Any]]:
    """The Incidents page's rows: filtered by owner and status, sorted by one column (empty last)."""
    rows = [
        i
        for i in incidents
        if (not owner or i["ca_owner"] == owner) and (not status or i["status"] == status)
    ]
    present = [r for r in rows if _sort_value(r, sort) is not None]
    present.sort(key=lambda r: _sort_value(r, sort), reverse=descending)
    return present + [r for r in rows if _sort_value(r, sort) is None]


def create_app(snapshot_file: Callable[[], Path], guard: Callable[..., Any]) -> FastAPI:
    """The dashboard app; `snapshot_file` says where the snapshot is when a request comes in."""
    templates = _environment()
    app = FastAPI(title="ctwatch compliance dashboard", dependencies=[Depends(guard)], docs_url=None,
                  redoc_url=None, openapi_url=None)  # fmt: skip

    @contextmanager
    def snapshot() -> Iterator[SnapshotReader | None]:
        with open_snapshot(snapshot_file()) as reader:
            yield reader

    def page(request: Request, template: str, reader: SnapshotReader | None, **values: Any) -> HTMLResponse:
        meta = reader.meta() if reader else {}
        html = templates.get_template(template).render(
            base=str(request.scope.get("root_path", "")), meta=meta, urlencode=urlencode, **values
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    def incidents_of(everything: list[dict[str, Any]], owner: str | None, status: str | None, sort: str,
                     order: str) -> list[dict[str, Any]]:  # fmt: skip
        if sort not in INCIDENT_COLUMNS:
            raise HTTPException(400, f"sort must be one of {', '.join(INCIDENT_COLUMNS)}")
        return incident_rows(everything, owner, status, sort, order == "desc")

    @app.get("/", response_class=HTMLResponse)
    @app.get("/incidents", response_class=HTMLResponse)
    def incidents_page(
        request: Request,
        owner: str | None = None,
        status: str | None = None,
        sort: str = "next_deadline",
        order: str = Query("asc", pattern="^(asc|desc)$"),
    ) -> HTMLResponse:
        with snapshot() as reader:
            everything = reader.incidents() if reader else []
            rows = incidents_of(everything, owner, status, sort, order)
            return page(
                request, "incidents.html", reader, rows=rows, columns=INCIDENT_COLUMNS,
                owners=sorted({i["ca_owner"] for i in everything}),
                statuses=sorted({i["status"] for i in everything}),
                owner=owner or "", status=status or "", sort=sort, order=order,
            )  # fmt: skip

    @app.get("/api/incidents")
    def incidents_json(
        owner: str | None = None,
        status: str | None = None,
        sort: str = "next_deadline",
        order: str = Query("asc", pattern="^(asc|desc)$"),
    ) -> JSONResponse:
        with snapshot() as reader:
            rows = incidents_of(reader.incidents() if reader else [], owner, status, sort, order)
            return JSONResponse({"meta": reader.meta() if reader else {}, "incidents": rows})

    @app.get("/incident", response_class=HTMLResponse)
    def incident_page(request: Request, id: str, number: int = Query(1, alias="page", ge=1)) -> HTMLResponse:
        with snapshot() as reader:
            incident = reader.incident(id) if reader else None
            if reader is None or incident is None:
                raise HTTPException(404, "no such incident in the snapshot")
            certificates = reader.certificates(id)
            certificates.sort(key=lambda c: (-(c["delay_s"] or 0), c["subject"] or ""))
            pages = max(math.ceil(len(certificates) / CERTIFICATES_PER_PAGE), 1)
            if number > pages:
                raise HTTPException(404, f"the incident's certificates fill {pages} page(s)")
            first = (number - 1) * CERTIFICATES_PER_PAGE
            present = reader.file_names(id)  # not the files themselves: the CSV alone can be megabytes
            files = [name for name in DOWNLOADS if name in present]
            return page(request, "incident.html", reader, incident=incident,
                        certificates=certificates[first : first + CERTIFICATES_PER_PAGE],
                        total=len(certificates), first=first, number=number, pages=pages,
                        files=files, plan=reader.plan(id),
                        late_leaves=reader.plan_late_leaves(id, MAX_LATE_LEAVES_LISTED))  # fmt: skip

    @app.get("/api/incident")
    def incident_json(id: str) -> JSONResponse:
        with snapshot() as reader:
            incident = reader.incident(id) if reader else None
            if reader is None or incident is None:
                raise HTTPException(404, "no such incident in the snapshot")
            plan = reader.plan(id)
            if plan is not None:
                plan = {**plan, "late_leaves": reader.plan_late_leaves(id)}
            return JSONResponse(
                {"meta": reader.meta(), "incident": incident, "certificates": reader.certificates(id),
                 "plan": plan}
            )  # fmt: skip

    @app.get("/incident/file")
    def incident_file(id: str, name: str) -> Response:
        if name not in DOWNLOADS:
            raise HTTPException(404, "no such file")
        with snapshot() as reader:
            content = reader.file(id, name) if reader else None
        if content is None:
            raise HTTPException(404, "no such file in the snapshot")
        disposition = "inline" if name.endswith(".png") else f'attachment; filename="{name}"'
        return Response(content, media_type=DOWNLOADS[name], headers={"Content-Disposition": disposition})

    @app.get("/certificate/{der_sha256}", response_class=HTMLResponse)
    def certificate_page(request: Request, der_sha256: str) -> HTMLResponse:
        with snapshot() as reader:
            evidence = reader.evidence(der_sha256.lower()) if reader else None
            if evidence is None:
                raise HTTPException(404, "no verdict about this certificate in the snapshot")
            return page(request, "certificate.html", reader, cert=evidence)

    @app.get("/api/certificate/{der_sha256}")
    def certificate_json(der_sha256: str) -> JSONResponse:
        with snapshot() as reader:
            evidence = reader.evidence(der_sha256.lower()) if reader else None
            if reader is None or evidence is None:
                raise HTTPException(404, "no verdict about this certificate in the snapshot")
            return JSONResponse({"meta": reader.meta(), "certificate": evidence})

    @app.get("/sources", response_class=HTMLResponse)
    def sources_page(request: Request) -> HTMLResponse:
        with snapshot() as reader:
            sources = reader.sources() if reader else []
            logs = reader.ct_logs() if reader else []
            return page(request, "sources.html", reader, sources=sources, logs=logs)

    @app.get("/api/sources")
    def sources_json() -> JSONResponse:
        with snapshot() as reader:
            if reader is None:
                return JSONResponse({"meta": {}, "sources": [], "ct_logs": []})
            return JSONResponse(
                {"meta": reader.meta(), "sources": reader.sources(), "ct_logs": reader.ct_logs()}
            )

    @app.get("/alerts", response_class=HTMLResponse)
    def alerts_page(request: Request) -> HTMLResponse:
        with snapshot() as reader:
            alerts = reader.alerts(ALERTS_SHOWN) if reader else []
            total = reader.alert_count() if reader else 0
            return page(request, "alerts.html", reader, alerts=alerts, total=total)

    @app.get("/api/alerts")
    def alerts_json() -> JSONResponse:
        with snapshot() as reader:
            if reader is None:
                return JSONResponse({"meta": {}, "alerts": []})
            return JSONResponse({"meta": reader.meta(), "alerts": reader.alerts(ALERTS_SHOWN)})

    return app
