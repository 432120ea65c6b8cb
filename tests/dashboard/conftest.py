"""A warehouse evaluated through the evaluator's public API, as the report tests build it (one
SECOM-like incident, clock start 2020-07-01, deadline 2020-07-08, four certificates: on time,
late, overdue, expired), with hostile certificate text and a bug summary carrying markup; its
dashboard snapshot published as of 2021-01-15. `planned_client`: the same with the report tests'
hand-built plan progress stored for the evaluation, its text made hostile and 52 leaves issued
after the stop date."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ctwatch import evaluate, warehouse
from ctwatch.dashboard.app import create_app
from ctwatch.dashboard.snapshot import publish_snapshot
from ctwatch.evaluate import PlanProgress, PointKind
from ctwatch.evaluate.plan_progress import LateLeaf
from ctwatch.evaluate.plan_store import save_plans
from ctwatch.evidence.bugzilla import Bug
from ctwatch.warehouse import observations
from tests.crl.factory import Ca
from tests.evaluate.conftest import World, revoked, root_ca, utc
from tests.report.conftest import (
    ASSIGNEE,
    BUG_ID,
    EVALUATED_AS_OF,
    EXPIRED,
    LATE,
    ON_TIME,
    OVERDUE,
    OWNER,
    PLAN_KEY,
    PLAN_V2,
    STOP_ISSUANCE,
    make_plan_progress,
)

SCRIPT_SUBJECT = "CN=<script>alert('subject')</script>,O=Evil"
MARKUP_SUMMARY = "SECOM: <b>Delayed</b> Revocation <img src=x onerror=alert(1)>"
SNAPSHOT_AS_OF = utc(2021, 1, 15)
HOSTILE_PLAN_SOURCE = "https://bugzilla.example/show_bug.cgi?id=1#c<script>alert('plan')</script>"
HOSTILE_EXPLANATION = "<img src=x onerror=alert(2)> see http://crl.example/a.crl: <b>bold</b>"
LATE_LEAVES = 52  # the hand-built plan's 2 and 50 more
__all__ = ["root_ca"]


def _hostile_bug(con: Any) -> None:
    bug = Bug(
        bug_id=BUG_ID, summary=MARKUP_SUMMARY, whiteboard="[ca-revocation-delay]", product="CA Program",
        component="CA Certificate Compliance", status="ASSIGNED", resolution=None, assigned_to=ASSIGNEE,
        creator=ASSIGNEE, creation_time=utc(2020, 7, 15), last_change_time=utc(2020, 8, 1),
        revocation_delay_tags=("ca-revocation-delay",), ca_owner=OWNER,
    )  # fmt: skip
    observations.store_bugs(con, [bug], observed_at=utc(2020, 8, 20), location="t")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    from importlib import resources

    path = tmp_path / "incidents.toml"
    path.write_text(resources.files("ctwatch.evaluate").joinpath("incidents.toml").read_text())
    return path


@pytest.fixture
def warehouse_file(tmp_path: Path, config_file: Path, root_ca: Ca) -> Path:
    path = tmp_path / "w.duckdb"
    con = warehouse.connect(path)
    try:
        world = World.start(con, tmp_path, root_ca)
        world.add_cert(ON_TIME, spki="e1" * 32, serial=1, subject_rfc4514=SCRIPT_SUBJECT)
        world.add_cert(LATE, spki="e1" * 32, serial=2, subject_rfc4514="CN=Late")
        world.add_cert(OVERDUE, spki="e2" * 32, serial=3, subject_rfc4514="CN=Overdue")
        world.add_cert(
            EXPIRED, spki="e3" * 32, serial=4, subject_rfc4514="CN=Expired", not_after=utc(2020, 10, 15)
        )
        world.ccadb({ON_TIME: "JPRS", LATE: "JPRS", OVERDUE: None, EXPIRED: None})
        world.crl(utc(2020, 7, 7))
        world.crl(utc(2020, 7, 7, 6), [revoked(1, utc(2020, 7, 7))])
        world.crl(utc(2020, 9, 15), [revoked(1, utc(2020, 7, 7))])
        world.crl(utc(2020, 9, 15, 6), [revoked(1, utc(2020, 7, 7)), revoked(2, utc(2020, 9, 15))])
        _hostile_bug(con)
        evaluate.evaluate(con, EVALUATED_AS_OF, config=evaluate.load_config(config_file), now=utc(2026, 1, 1))
    finally:
        con.close()
    return path


@pytest.fixture
def snapshot_file(tmp_path: Path, warehouse_file: Path, config_file: Path) -> Path:
    target = tmp_path / "dashboard" / "snapshot.sqlite"
    publish_snapshot(warehouse_file, SNAPSHOT_AS_OF, target, config=evaluate.load_config(config_file))
    return target


def hostile_plan() -> PlanProgress:
    """The report tests' plan, v2's source and the key destruction's explanation made hostile."""
    plan = make_plan_progress()
    more = tuple(
        LateLeaf(STOP_ISSUANCE, PLAN_KEY, f"{0x5000 + n:x}", STOP_ISSUANCE + timedelta(days=2, hours=n),
                 utc(2021, 8, 1), None, 2000 + n)
        for n in range(LATE_LEAVES - len(plan.late_leaves))
    )  # fmt: skip
    points = tuple(
        dataclasses.replace(
            p,
            plan_source=HOSTILE_PLAN_SOURCE if p.plan_source == PLAN_V2 else p.plan_source,
            explanation=(HOSTILE_EXPLANATION,) if p.kind is PointKind.KEY_DESTRUCTION else p.explanation,
        )
        for p in plan.points
    )
    return dataclasses.replace(plan, points=points, late_leaves=plan.late_leaves + more)


@pytest.fixture
def planned_client(tmp_path: Path, warehouse_file: Path, config_file: Path) -> TestClient:
    con = warehouse.connect(warehouse_file)
    try:
        save_plans(con, EVALUATED_AS_OF, [hostile_plan()])
    finally:
        con.close()
    target = tmp_path / "planned" / "snapshot.sqlite"
    publish_snapshot(warehouse_file, SNAPSHOT_AS_OF, target, config=evaluate.load_config(config_file))
    return TestClient(app_for(target))


def no_guard() -> None:
    """Authentication is the plugin's (tested against Airflow); these tests read the pages."""


def app_for(snapshot: Path, guard: Callable[..., Any] = no_guard) -> FastAPI:
    return create_app(lambda: snapshot, guard)


@pytest.fixture
def client(snapshot_file: Path) -> TestClient:
    return TestClient(app_for(snapshot_file))


def as_of_shown(html: str) -> datetime | None:
    import re

    found = re.search(r"Evaluation as of <strong>([^<]+)</strong>", html)
    return None if found is None else datetime.fromisoformat(found[1])
