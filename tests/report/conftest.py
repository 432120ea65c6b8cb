"""Report inputs: verdicts built directly for unit tests, and a warehouse evaluated through the
evaluator's public API for the end-to-end report (a SECOM-like incident, clock start
2020-07-01T00:00Z, deadline 2020-07-08T00:00Z, CRL publication deadline 24 h later; CRLs archived
by the CRL archive).

A declared plan's progress (`make_plan_progress`) is built by hand with the figures stated, for the
end-to-end report stored with the evaluation's rows (`planned_warehouse_file`)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from ctwatch import evaluate, warehouse
from ctwatch.evaluate import (
    Basis,
    Incident,
    IncidentStatus,
    KeyGroupStatus,
    PlanProgress,
    PointKind,
    PointState,
    Status,
    Verdict,
)
from ctwatch.evaluate.plan_progress import CtEntry, LateLeaf, ProgressPoint
from ctwatch.evaluate.plan_store import save_plans
from ctwatch.evidence.bugzilla import Bug, BugComment
from ctwatch.warehouse import observations
from tests.crl.factory import Ca
from tests.evaluate.conftest import World, revoked, root_ca, utc

RULE = "e_ca_ocsp_signing_eku_without_nocheck"
OWNER = "SECOM Trust Systems"
INCIDENT_ID = f"ocsp-eku-2020:{OWNER}"
CLOCK_START = utc(2020, 7, 1)
DEADLINE = utc(2020, 7, 8)
EVALUATED_AS_OF = utc(2021, 1, 1)
REPORT_AS_OF = utc(2021, 1, 15)  # reports the latest evaluation at or before it

MARKDOWN_HOSTILE = "CN=<!channel> | *x*"
CSV_HOSTILE = "CN==cmd|' /C calc'!A0"
ON_TIME = "a1" * 32  # revoked 2020-07-07, seen by ctwatch 06:00 (absent at 00:00)
LATE = "b1" * 32  # same key as ON_TIME, revoked 2020-09-15: late by 69 days
OVERDUE = "c1" * 32  # not revoked; the CA planned 2021-03-09
EXPIRED = "d1" * 32  # expired 2020-10-15 unrevoked
PLANNED = utc(2021, 3, 9)
__all__ = ["root_ca"]  # the evaluate tests' root CA fixture, shared


def make_verdict(**changes: Any) -> Verdict:
    """A CA-certificate verdict of the test incident; `changes` override any field."""
    base = Verdict(
        incident_id=INCIDENT_ID, der_sha256="ab" * 32, precert_der_sha256=None, spki_sha256="ee" * 32,
        has_finding=True, kind="sub_ca", ca_owner=OWNER, subordinate_ca_owner="JPRS",
        subject="CN=JPRS Domain Validation Authority - G3,O=Japan Registry Services Co.\\, Ltd.,C=JP",
        issuer="OU=Security Communication RootCA2,O=SECOM Trust Systems CO.\\,LTD.,C=JP",
        serial_hex="22b9b1630e4d3e4d", not_before=utc(2019, 7, 11), not_after=utc(2029, 5, 29),
        dns_names=None, first_ct_at=utc(2019, 7, 11, 5), first_ct_basis="ct", deadline=DEADLINE,
        deadline_basis="clock start + 7d", planned_revocation_at=None, status=Status.PENDING, delay=None,
        basis=Basis.NO_REVOCATION, revoked_at_claimed=None, revocation_reason=None,
        first_observed_revoked_at=None, bounds=(), arithmetic=(), evidence=(), publish_by=None,
        delay_max=None, basis_text="", last_observed_absent_at=None, findings=(), root_program_actions=(),
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def make_key_group(**changes: Any) -> KeyGroupStatus:
    """A closed key group of the test incident: destroyed 2021-03-31, 266 days after 2020-07-08."""
    base = KeyGroupStatus(
        incident_id=INCIDENT_ID, spki_sha256="ee" * 32, members=2, roots_listed=0, revoked=2, expired=0,
        open=0, late=1, max_delay=timedelta(hours=3), key_destruction_required=True,
        key_destroyed_at=utc(2021, 3, 31), key_destruction_auditor="KK", key_destruction_link="https://a",
        status="closed", earliest_deadline=DEADLINE, closed_at=utc(2021, 3, 31),
        closure_delay=timedelta(days=266),
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def make_incident(**changes: Any) -> Incident:
    base = Incident(
        incident_id=INCIDENT_ID, rule_id=RULE, rule_citation="BR 4.9.9", declared_id="ocsp-eku-2020",
        ca_owner=OWNER, subordinate_ca_owners=("JPRS",), root_stores=("Chrome", "Mozilla"),
        scope_basis="declared", clock_start=CLOCK_START, clock_source="public_disclosure",
        clock_source_detail="m.d.s.p", first_detected_as_of=utc(2020, 7, 2), window_kind="subordinate_ca",
        window=DEADLINE - CLOCK_START, deadline=DEADLINE, publication_allowance=None, window_citation=None,
        key_destruction_required=True, certificates=1, key_groups=1, status=IncidentStatus.OPEN,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


BUG_ID = 1652610
ASSIGNEE = "ca-compliance@secom.example"


def _bug(last_change: datetime) -> Bug:
    return Bug(
        bug_id=BUG_ID, summary="SECOM: Delayed Revocation of CA Certificate with OCSP EKU Issue",
        whiteboard="[ca-revocation-delay]", product="CA Program", component="CA Certificate Compliance",
        status="ASSIGNED", resolution=None, assigned_to=ASSIGNEE, creator=ASSIGNEE,
        creation_time=utc(2020, 7, 15), last_change_time=last_change,
        revocation_delay_tags=("ca-revocation-delay",), ca_owner=OWNER,
    )  # fmt: skip


def _comment(count: int, creator: str, at: datetime) -> BugComment:
    return BugComment(BUG_ID * 100 + count, BUG_ID, count, creator, at, is_private=False)


def _bugzilla(con: Any) -> None:
    """Searches on 08-20, 09-01 and 09-20; comment fetches on 08-20 and 09-01 (incremental). The
    CA's updates: 07-15 (the description), 07-20, 08-01, 08-30; a root-program comment on 07-25."""
    for observed, changed in [((8, 20), (8, 1)), ((9, 1), (8, 30)), ((9, 20), (8, 30))]:
        observations.store_bugs(
            con, [_bug(utc(2020, *changed))], observed_at=utc(2020, *observed), location="t"
        )
    early = [
        _comment(0, ASSIGNEE, utc(2020, 7, 15)),
        _comment(1, ASSIGNEE, utc(2020, 7, 20)),
        _comment(2, "root-program@example.org", utc(2020, 7, 25)),
        _comment(3, ASSIGNEE, utc(2020, 8, 1)),
    ]
    observations.store_bug_comments(
        con, BUG_ID, early, [], fetched_at=utc(2020, 8, 20), new_since=None, location="t"
    )
    observations.store_bug_comments(
        con, BUG_ID, [_comment(4, ASSIGNEE, utc(2020, 8, 30))], [], fetched_at=utc(2020, 9, 1),
        new_since=utc(2020, 8, 1), location="t",
    )  # fmt: skip


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The packaged declaration of the July 2020 incident, with the CA's planned date for OVERDUE."""
    path = tmp_path / "incidents.toml"
    packaged = resources.files("ctwatch.evaluate").joinpath("incidents.toml").read_text()
    path.write_text(packaged + f'planned_revocations = {{ "{OVERDUE}" = 2021-03-09 }}\n')
    return path


@pytest.fixture
def warehouse_file(tmp_path: Path, config_file: Path, root_ca: Ca) -> Path:
    """The warehouse after the evaluation as of 2021-01-01 (closed again: reports open it read-only)."""
    path = tmp_path / "w.duckdb"
    con = warehouse.connect(path)
    try:
        world = World.start(con, tmp_path, root_ca)
        world.add_cert(ON_TIME, spki="e1" * 32, serial=1, subject_rfc4514=MARKDOWN_HOSTILE)
        world.add_cert(LATE, spki="e1" * 32, serial=2, subject_rfc4514="CN=Late")
        world.add_cert(OVERDUE, spki="e2" * 32, serial=3, subject_rfc4514=CSV_HOSTILE)
        world.add_cert(
            EXPIRED, spki="e3" * 32, serial=4, subject_rfc4514="CN=Expired", not_after=utc(2020, 10, 15)
        )
        world.ccadb({ON_TIME: "JPRS", LATE: "JPRS", OVERDUE: None, EXPIRED: None})
        world.crl(utc(2020, 7, 7))
        world.crl(utc(2020, 7, 7, 6), [revoked(1, utc(2020, 7, 7))])
        world.crl(utc(2020, 9, 15), [revoked(1, utc(2020, 7, 7))])
        world.crl(utc(2020, 9, 15, 6), [revoked(1, utc(2020, 7, 7)), revoked(2, utc(2020, 9, 15))])
        _bugzilla(con)
        config = evaluate.load_config(config_file)
        evaluate.evaluate(con, EVALUATED_AS_OF, config=config, now=utc(2026, 1, 1))
    finally:
        con.close()
    return path


PLAN_V1 = "https://bugzilla.mozilla.org/show_bug.cgi?id=1652610#c7"
PLAN_V2 = "https://bugzilla.mozilla.org/show_bug.cgi?id=1652610#c20"
PLAN_V1_AT = utc(2020, 7, 20)
PLAN_V2_AT = utc(2020, 9, 10)
PLAN_KEY = "5a" * 32
PLAN_LOG = "11" * 32
STOP_ISSUANCE = utc(2020, 7, 29)  # "stop by the end of 2020-07-28"
LATE_IN_CT = "3003"
LATE_IN_CRTSH = "3004"
LATE_CRTSH_ID = 123456
CRTSH_SEARCH = "https://crt.sh/?caid=1121&exclude=expired"
PLAN_CRL = "http://crl.example/jprs.crl"


def _point(
    kind: PointKind, at: datetime, label: str, version: tuple[datetime, str] | None, state: PointState, *,
    planned: float | None = None, measure: tuple[float, int, int, int] | None = None,
    planned_count: int | None = None, explanation: tuple[str, ...] = (),
) -> ProgressPoint:  # fmt: skip
    """`measure`: (measured percent, remaining, revoked, expired) of the baseline of 50."""
    measured, remaining, revoked, expired = measure or (None, None, None, None)
    return ProgressPoint(
        kind=kind, at=at, label=label, plan_announced_at=version[0] if version else None,
        plan_source=version[1] if version else None, planned_percent=planned, planned_count=planned_count,
        measured_percent=measured, baseline=50, remaining=remaining, revoked=revoked, expired=expired,
        state=state, explanation=explanation,
    )  # fmt: skip


def make_plan_progress(**changes: Any) -> PlanProgress:
    """The plan of the test incident as of EVALUATED_AS_OF, baseline 50 leaves. v1 (announced 07-20):
    stop by the end of 07-28, 20% by 08-31, 40% by 09-30. v2 (announced 09-10): 30% by 09-30,
    25 leaves (50%) by 10-31, 80% by 2021-01-31, the key destroyed by 2021-04-30.

    - 2020-08-31 (v1): 8 of 50 replaced = 16%, planned 20%: -4 points, within the 5-point margin
    - 2020-09-30: v1's 40% superseded; v2's 30% against 12 of 50 = 24%: -6 points, behind
    - 2020-10-31 (v2): 26 of 50 = 52%, planned 50%: +2 points, on plan
    - 2021-01-31 and the key destruction: not due; two leaves issued after the stop: broken
    """
    v1, v2 = (PLAN_V1_AT, PLAN_V1), (PLAN_V2_AT, PLAN_V2)
    month, milestone = PointKind.MONTH_END, PointKind.MILESTONE
    measured = PointState.MEASURED
    points = (
        _point(PointKind.STOP_ISSUANCE, STOP_ISSUANCE, "2020-07-28", v2, PointState.BROKEN, planned_count=0,
               explanation=(f"2 leaves with notBefore after 2020-07-29T00:00:00Z; the first: {LATE_IN_CT}",)),
        _point(month, utc(2020, 8, 1), "2020-07-31", v1, measured, planned=0.0, measure=(0.0, 50, 0, 0)),
        _point(month, utc(2020, 9, 1), "2020-08-31", v1, measured, planned=20.0, measure=(16.0, 42, 7, 1)),
        _point(milestone, utc(2020, 9, 1), "2020-08-31", v1, PointState.WITHIN_MARGIN, planned=20.0,
               measure=(16.0, 42, 7, 1),
               explanation=("remaining 42 of the baseline 50 at 2020-09-01T00:00:00Z: 7 revoked on a CRL by "
                            "then, 1 expired by then",)),
        _point(month, utc(2020, 10, 1), "2020-09-30", v2, measured, planned=30.0, measure=(24.0, 38, 11, 1)),
        _point(milestone, utc(2020, 10, 1), "2020-09-30", v1, PointState.SUPERSEDED, planned=40.0,
               explanation=("superseded by the plan of 2020-09-10 before it fell due",)),
        _point(milestone, utc(2020, 10, 1), "2020-09-30", v2, PointState.BEHIND, planned=30.0,
               measure=(24.0, 38, 11, 1)),
        _point(month, utc(2020, 11, 1), "2020-10-31", v2, measured, planned=50.0, measure=(52.0, 24, 25, 1)),
        _point(milestone, utc(2020, 11, 1), "2020-10-31", v2, PointState.ON_PLAN, planned=50.0,
               measure=(52.0, 24, 25, 1), planned_count=25),
        _point(month, utc(2020, 12, 1), "2020-11-30", v2, measured, planned=50.0, measure=(60.0, 20, 29, 1)),
        _point(month, utc(2021, 1, 1), "2020-12-31", v2, measured, planned=50.0, measure=(60.0, 20, 29, 1)),
        _point(milestone, utc(2021, 2, 1), "2021-01-31", v2, PointState.NOT_DUE, planned=80.0),
        _point(PointKind.KEY_DESTRUCTION, utc(2021, 5, 1), "2021-04-30", v2, PointState.NOT_DUE,
               planned_count=1, explanation=("0 of 1 keys destroyed by 2021-05-01T00:00:00Z",)),
    )  # fmt: skip
    late = (
        LateLeaf(STOP_ISSUANCE, PLAN_KEY, LATE_IN_CT, utc(2020, 7, 29, 0, 0, 1), utc(2021, 7, 29),
                 CtEntry(PLAN_LOG, 54, utc(2020, 7, 29, 0, 1)), None),
        LateLeaf(STOP_ISSUANCE, PLAN_KEY, LATE_IN_CRTSH, utc(2020, 7, 30), utc(2021, 7, 30), None,
                 LATE_CRTSH_ID),
    )  # fmt: skip
    base = PlanProgress(
        incident_id=INCIDENT_ID, as_of=EVALUATED_AS_OF, clock_start=CLOCK_START, issuer_keys=(PLAN_KEY,),
        points=points, late_leaves=late, behind_margin_points=5.0,
        population=(
            "52 leaves of the affected keys: 51 in CT entries ctwatch holds, 50 in crt.sh issuer searches",
            f"crt.sh CA id 1121 (key {PLAN_KEY[:16]}): {CRTSH_SEARCH}, 3 queries, 50 rows",
            f"CRL {PLAN_CRL}: 3 verified versions",
        ),
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


@pytest.fixture
def planned_warehouse_file(warehouse_file: Path) -> Path:
    """The evaluated warehouse with the hand-built plan progress stored for its evaluation."""
    con = warehouse.connect(warehouse_file)
    try:
        save_plans(con, EVALUATED_AS_OF, [make_plan_progress()])
    finally:
        con.close()
    return warehouse_file
