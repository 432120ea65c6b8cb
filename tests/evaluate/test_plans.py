"""A CA's declared plan against hand-computed leaf populations, through the real storage paths:
leaves as CT rows, revocations as signed CRL versions in the CRL archive, the plan as ctwatch.toml.

The declared incident (conftest.CONFIG) starts its clock at 2020-07-01T17:30:00Z. The issuing CA of
the leaves is the test root (its CRLs are the ones the world can sign); the plans name its key.

Population (serials in hex):
- 0x2000..0x2031: 50 leaves issued 2020-05-01, valid to 2021-06-01: the baseline. 0x2000 is logged
  as a precertificate and as its final certificate (two CT entries, one leaf); 0x2001 expires
  2020-08-15T12:00:00Z.
- not in the baseline: 0x3000 expired 2020-06-30; 0x3001 revoked on the CRL of 2020-06-20;
  0x3002 issued 2020-07-10; 0x3003 issued one second after the stop (2020-07-29T00:00:00Z) and
  0x3004 exactly at it.
CRL versions (thisUpdate): 2020-06-20 lists 0x3001; 2020-08-20 adds 0x2002..0x2008 (7);
2020-09-25 adds 0x2009..0x200c (4).

Plans: v1 (announced 2020-07-20) stop by the end of 2020-07-28, 20% by 2020-08-31, 40% by
2020-09-30; v2 (announced 2020-09-10) 20% by 2020-08-31, 30% by 2020-09-30, 50% by 2020-10-31.
- 2020-08-31 (due 2020-09-01T00:00Z, v1 in force): 7 revoked + 1 expired = 8 of 50 = 16%,
  planned 20%: 4 points behind, within the 5-point margin.
- 2020-09-30 (due 2020-10-01T00:00Z, v2 in force since 09-10): 11 revoked + 1 expired = 24%,
  planned 30%: 6 points behind -> behind; v1's 40% for that date is superseded.
- 2020-10-31: not due as of 2020-10-15.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ctwatch import evaluate
from ctwatch.alerts import Transition
from ctwatch.evaluate import PointKind, PointState
from ctwatch.evaluate.config import ConfigError, EvaluationConfig, parse_config
from ctwatch.warehouse import ct_store
from tests.evaluate.conftest import CONFIG, OWNER, World, revoked, utc

A = "a1" * 32
KEY_A = "ee" * 32
INCIDENT = f"ocsp-eku-2020:{OWNER}"
NOW = utc(2026, 1, 1)
AS_OF = utc(2020, 10, 15)
STOP = utc(2020, 7, 29)
S = timedelta(seconds=1)
BASELINE = range(0x2000, 0x2032)
EXPIRES_MID_AUGUST = utc(2020, 8, 15, 12)
LOG = "11" * 32


def _plans(root_key: str, extra: str = "") -> EvaluationConfig:
    return parse_config(
        CONFIG
        + f"""
[[plans]]
incident = "ocsp-eku-2020"
ca_owner = "{OWNER}"
announced_at = 2020-07-20T00:00:00Z
source = "https://bugzilla.mozilla.org/show_bug.cgi?id=1652610#c7"
stop_issuance = 2020-07-28
issuer_keys = ["{root_key}"]
milestones = [
    {{ due = 2020-08-31, replaced_percent = 20 }},
    {{ due = 2020-09-30, replaced_percent = 40 }},
]

[[plans]]
incident = "ocsp-eku-2020"
ca_owner = "{OWNER}"
announced_at = 2020-09-10T00:00:00Z
source = "https://bugzilla.mozilla.org/show_bug.cgi?id=1652610#c20"
stop_issuance = 2020-07-28
issuer_keys = ["{root_key}"]
milestones = [
    {{ due = 2020-08-31, replaced_percent = 20 }},
    {{ due = 2020-09-30, replaced_percent = 30 }},
    {{ due = 2020-10-31, replaced_percent = 50 }},
]
{extra}""".encode()
    )


def _serial_bytes(serial: int) -> bytes:
    return serial.to_bytes((serial.bit_length() + 8) // 8, "big")  # DER INTEGER content octets


def _log_leaves(world: World, key: str, leaves: list[tuple[int, datetime, datetime, bool]]) -> None:
    """CT rows of `leaves` (serial, notBefore, notAfter, precert), each logged at its notBefore."""
    columns = ct_store.LeafColumns()
    for index, (serial, not_before, not_after, precert) in enumerate(leaves):
        columns.log_id.append(LOG)
        columns.entry_index.append(index)
        columns.timestamp_ms.append(int(not_before.timestamp() * 1000) + (60_000 if not precert else 0))
        columns.leaf_hash.append(index.to_bytes(32, "big"))
        columns.precert.append(precert)
        columns.issuer_spki_sha256.append(key)
        columns.serial.append(_serial_bytes(serial))
        columns.not_before_s.append(int(not_before.timestamp()))
        columns.not_after_s.append(int(not_after.timestamp()))
    ct_store.store_leaves(world.con, columns)


@pytest.fixture
def planned(world: World) -> World:
    world.add_cert(A, spki=KEY_A, serial=0x1A)
    world.ccadb({A: "JPRS"})
    issued, valid_to = utc(2020, 5, 1), utc(2021, 6, 1)
    leaves = [(s, issued, EXPIRES_MID_AUGUST if s == 0x2001 else valid_to, False) for s in BASELINE]
    leaves.append((0x2000, issued, valid_to, True))  # the precertificate of 0x2000
    leaves += [
        (0x3000, utc(2020, 4, 1), utc(2020, 6, 30), False),
        (0x3001, issued, valid_to, False),
        (0x3002, utc(2020, 7, 10), valid_to, False),
        (0x3003, STOP + S, valid_to, True),
        (0x3004, STOP, valid_to, False),
    ]
    _log_leaves(world, world.root_cert.spki_sha256 or "", leaves)
    early = [revoked(0x3001, utc(2020, 6, 19))]
    august = [revoked(s, utc(2020, 8, 19)) for s in range(0x2002, 0x2009)]
    september = [revoked(s, utc(2020, 9, 24)) for s in range(0x2009, 0x200D)]
    world.crl(utc(2020, 6, 20), early)
    world.crl(utc(2020, 8, 20), early + august)
    world.crl(utc(2020, 9, 25), early + august + september)
    return world


def _progress(world: World, config: EvaluationConfig, as_of: datetime = AS_OF) -> evaluate.PlanProgress:
    evaluate.evaluate(world.con, as_of, config=config, now=NOW)
    return evaluate.read_plans(world.con, as_of)[INCIDENT]


def _milestones(
    progress: evaluate.PlanProgress,
) -> list[tuple[str, datetime | None, float | None, float | None, str]]:
    return [
        (p.label, p.plan_announced_at, p.planned_percent, p.measured_percent, p.state)
        for p in progress.points
        if p.kind is PointKind.MILESTONE
    ]


def test_milestones_against_the_hand_computed_population(planned: World) -> None:
    progress = _progress(planned, _plans(planned.root_cert.spki_sha256 or ""))
    v1, v2 = utc(2020, 7, 20), utc(2020, 9, 10)
    assert _milestones(progress) == [
        ("2020-08-31", v1, 20.0, 16.0, PointState.WITHIN_MARGIN),
        ("2020-08-31", v2, 20.0, None, PointState.SUPERSEDED),
        ("2020-09-30", v1, 40.0, None, PointState.SUPERSEDED),
        ("2020-09-30", v2, 30.0, 24.0, PointState.BEHIND),
        ("2020-10-31", v2, 50.0, None, PointState.NOT_DUE),
    ]
    behind = next(p for p in progress.points if p.state is PointState.BEHIND)
    assert (behind.baseline, behind.remaining, behind.revoked, behind.expired) == (50, 38, 11, 1)
    assert behind.difference_points == pytest.approx(-6.0)


def test_month_ends_measure_and_plan_in_force(planned: World) -> None:
    progress = _progress(planned, _plans(planned.root_cert.spki_sha256 or ""))
    rows = [
        (p.kind, p.label, p.planned_percent, p.measured_percent)
        for p in progress.points
        if p.kind in {PointKind.MONTH_END, PointKind.AS_OF}
    ]
    assert rows == [
        (PointKind.MONTH_END, "2020-07-31", 0.0, 0.0),  # v1 in force, no milestone due yet
        (PointKind.MONTH_END, "2020-08-31", 20.0, 16.0),
        (PointKind.MONTH_END, "2020-09-30", 30.0, 24.0),  # v2 in force
        (PointKind.AS_OF, "2020-10-15T00:00:00Z", 30.0, 24.0),
    ]


def test_issuance_one_second_after_the_stop_is_found_once(planned: World) -> None:
    config = _plans(planned.root_cert.spki_sha256 or "")
    progress = _progress(planned, config)
    assert [(leaf.serial_hex, leaf.not_before) for leaf in progress.late_leaves] == [("3003", STOP + S)]
    (stop,) = [p for p in progress.points if p.kind is PointKind.STOP_ISSUANCE]
    assert (stop.at, stop.state) == (STOP, PointState.BROKEN)
    _progress(planned, config, utc(2020, 10, 22))
    plan_alerts = "SELECT transition, alert_key FROM alert_outbox ORDER BY alert_key"
    events = [
        (transition, key)
        for transition, key in planned.con.execute(plan_alerts).fetchall()
        if transition in {Transition.PLAN_BEHIND, Transition.ISSUED_AFTER_STOP}
    ]
    assert events == [
        (Transition.ISSUED_AFTER_STOP, f"{INCIDENT}|-|issued_after_stop|stop-2020-07-29T00:00:00Z"),
        (Transition.PLAN_BEHIND, f"{INCIDENT}|-|plan_behind|2020-09-10T00:00:00Z/2020-10-01T00:00:00Z"),
    ]


def test_a_leaf_is_unexpired_through_its_not_after_second(planned: World) -> None:
    key = planned.root_cert.spki_sha256 or ""
    # the plan's only milestones: at 0x2001's notAfter, and one second later
    config = parse_config(
        CONFIG
        + f"""
[[plans]]
incident = "ocsp-eku-2020"
ca_owner = "{OWNER}"
announced_at = 2020-07-02T00:00:00Z
source = "https://bugzilla.example/1"
issuer_keys = ["{key}"]
milestones = [
    {{ due = 2020-08-15T12:00:00Z, replaced_count = 0 }},
    {{ due = 2020-08-15T12:00:01Z, replaced_count = 0 }},
]
""".encode()
    )
    progress = _progress(planned, config)
    at_not_after, one_second_later = [p for p in progress.points if p.kind is PointKind.MILESTONE]
    assert (at_not_after.at, at_not_after.remaining, at_not_after.expired) == (EXPIRES_MID_AUGUST, 50, 0)
    assert (one_second_later.at, one_second_later.remaining, one_second_later.expired) == (
        EXPIRES_MID_AUGUST + S,
        49,
        1,
    )
    assert at_not_after.state is PointState.ON_PLAN


def test_a_plan_announced_after_the_as_of_is_not_seen(planned: World) -> None:
    config = _plans(planned.root_cert.spki_sha256 or "")
    progress = _progress(planned, config, utc(2020, 9, 5))  # before v2
    assert {p.plan_announced_at for p in progress.points if p.plan_announced_at} == {utc(2020, 7, 20)}


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (
            '[[plans]]\nincident = "nope"\nca_owner = "X"\nannounced_at = 2020-07-02T00:00:00Z\n'
            'source = "s"\nstop_issuance = 2020-07-28\n',
            "plans[2].incident = 'nope': expected the id of a declared [[incidents]] entry: ocsp-eku-2020",
        ),
        (
            '[[plans]]\nincident = "ocsp-eku-2020"\nca_owner = "X"\nannounced_at = 2020-07-02T00:00:00Z\n'
            'source = "s"\nmilestones = [{ due = 2020-08-31, replaced_percent = 120 }]\n',
            "plans[2].milestones[0].replaced_percent = 120: expected a percentage from 0 to 100",
        ),
        (
            '[[plans]]\nincident = "ocsp-eku-2020"\nca_owner = "X"\nannounced_at = 2020-07-02T00:00:00Z\n'
            'source = "s"\nmilestones = [{ due = 2020-08-31, replaced_percent = 5, replaced_count = 3 }]\n',
            "plans[2].milestones[0]: give exactly one of replaced_percent and replaced_count",
        ),
    ],
)
def test_plan_declaration_problems_name_the_entry(planned: World, extra: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _plans(planned.root_cert.spki_sha256 or "", extra)
    assert problem in raised.value.problems
