"""still_overdue digests from the evaluator: one per incident per period live, one per evaluation in a
replay, listing every overdue certificate of the incident with its delay so far.

The world (tests/evaluate/conftest.py): the declared incident's clock starts 2020-07-01T17:30Z, so
certificates issued before it have the deadline 2020-07-08T17:30Z and the publish-by 2020-07-09T17:30Z
(24 h for a CA certificate's revocation to reach the CRL). EARLY and LATE_REVOKED are such
certificates; ISSUED_AFTER, issued 2020-07-03 (after the clock start), has its own window from its
notBefore: deadline 2020-07-10T00:00Z, publish-by 2020-07-11T00:00Z. LATE_REVOKED is listed, revoked
2020-07-12, on the CRL ctwatch fetched 2020-07-13: revoked late, so never in a digest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ctwatch import evaluate, warehouse
from ctwatch.alerts import AlertEvent, Transition
from ctwatch.alerts.model import decode_event
from ctwatch.evaluate.config import EvaluationConfig, parse_config
from tests.crl.factory import Ca, make_ca
from tests.evaluate.conftest import CONFIG, OWNER, World, revoked, utc

INCIDENT = f"ocsp-eku-2020:{OWNER}"
EARLY = "e1" * 32
LATE_REVOKED = "e2" * 32
ISSUED_AFTER = "e3" * 32
DEADLINE = utc(2020, 7, 8, 17, 30)
ISSUED_AFTER_DEADLINE = utc(2020, 7, 10)
REPLAYED_IN = utc(2026, 1, 1)  # the real time of a replay: every as-of below is historical
LIVE_LAG = timedelta(minutes=5)  # a live evaluation runs just after its as-of


@pytest.fixture(scope="module")
def root_ca() -> Ca:
    return make_ca("Digest Test Root")


@pytest.fixture
def world(tmp_path: Path, root_ca: Ca) -> Iterator[World]:
    con = warehouse.connect(tmp_path / "w.duckdb")
    built = World.start(con, tmp_path, root_ca)
    built.add_cert(EARLY, spki="f1" * 32, serial=0xE1, subject_rfc4514="CN=Early CA")
    built.add_cert(LATE_REVOKED, spki="f2" * 32, serial=0xE2, subject_rfc4514="CN=Late CA")
    built.add_cert(
        ISSUED_AFTER, spki="f3" * 32, serial=0xE3, subject_rfc4514="CN=Issued After CA",
        not_before=utc(2020, 7, 3),
    )  # fmt: skip
    built.ccadb({EARLY: None, LATE_REVOKED: None, ISSUED_AFTER: None})
    built.crl(utc(2020, 7, 1))
    built.crl(utc(2020, 7, 13), [revoked(0xE2, utc(2020, 7, 12))])
    yield built
    con.close()


@pytest.fixture
def config() -> EvaluationConfig:
    return parse_config(CONFIG)


def _digests(world: World) -> list[tuple[str, AlertEvent]]:
    rows = world.con.execute(
        "SELECT alert_key, event_json FROM alert_outbox WHERE transition = 'still_overdue' "
        "ORDER BY occurred_at"
    ).fetchall()
    return [(key, decode_event(event_json)) for key, event_json in rows]


def _listed(event: AlertEvent) -> list[tuple[str, str | None, str | None, datetime, timedelta]]:
    assert event.overdue_digest is not None
    return [
        (c.der_sha256, c.subject, c.serial_hex, c.deadline, c.delay)
        for c in event.overdue_digest.certificates
    ]


def test_a_replay_raises_one_digest_per_evaluation_with_overdue_certificates(
    world: World, config: EvaluationConfig
) -> None:
    for as_of in (utc(2020, 7, 9), utc(2020, 7, 15), utc(2020, 7, 15, 12), utc(2020, 7, 15, 12)):
        evaluate.evaluate(world.con, as_of, config=config, now=REPLAYED_IN)
    # 07-09T00:00 is before every publish-by: nothing overdue, no digest. The run of 07-15T12:00
    # twice: one digest.
    (first_key, first), (second_key, second) = _digests(world)
    assert first_key == f"{INCIDENT}|-|still_overdue|as-of-2020-07-15T00:00:00Z"
    assert second_key == f"{INCIDENT}|-|still_overdue|as-of-2020-07-15T12:00:00Z"
    assert (first.der_sha256, first.historical, first.facts.ca_owner) == (None, True, OWNER)
    # 07-15T00:00 - 07-08T17:30 = 6 d 6 h 30 min; 07-15T00:00 - 07-10T00:00 = 5 d
    assert _listed(first) == [
        (EARLY, "CN=Early CA", "e1", DEADLINE, timedelta(days=6, hours=6, minutes=30)),
        (ISSUED_AFTER, "CN=Issued After CA", "e3", ISSUED_AFTER_DEADLINE, timedelta(days=5)),
    ]
    # 12 hours later, each 12 hours more overdue
    assert _listed(second) == [
        (EARLY, "CN=Early CA", "e1", DEADLINE, timedelta(days=6, hours=18, minutes=30)),
        (ISSUED_AFTER, "CN=Issued After CA", "e3", ISSUED_AFTER_DEADLINE, timedelta(days=5, hours=12)),
    ]
    # Each certificate's breach is still its own alert, raised once.
    breached = world.con.execute(
        "SELECT der_sha256 FROM alert_outbox WHERE transition = 'deadline_breached' ORDER BY der_sha256"
    ).fetchall()
    assert breached == [(EARLY,), (ISSUED_AFTER,)]


def test_live_evaluations_raise_one_digest_per_utc_day(world: World, config: EvaluationConfig) -> None:
    for as_of in (utc(2020, 7, 15), utc(2020, 7, 15, 12), utc(2020, 7, 15, 23), utc(2020, 7, 16, 1)):
        evaluate.evaluate(world.con, as_of, config=config, now=as_of + LIVE_LAG)
    (day_key, day), (next_key, next_day) = _digests(world)
    assert day_key == f"{INCIDENT}|-|still_overdue|period-2020-07-15T00:00:00Z"
    assert next_key == f"{INCIDENT}|-|still_overdue|period-2020-07-16T00:00:00Z"
    assert day.historical is False
    assert day.occurred_at == utc(2020, 7, 15)  # the day's first evaluation made it
    assert [delay for *_, delay in _listed(day)] == [
        timedelta(days=6, hours=6, minutes=30),
        timedelta(days=5),
    ]
    # 07-16T01:00 - 07-08T17:30 = 7 d 7 h 30 min; 07-16T01:00 - 07-10T00:00 = 6 d 1 h
    assert [delay for *_, delay in _listed(next_day)] == [
        timedelta(days=7, hours=7, minutes=30),
        timedelta(days=6, hours=1),
    ]


def test_the_digest_period_is_a_setting(world: World, config: EvaluationConfig) -> None:
    twelve_hours = timedelta(hours=12)
    for as_of in (utc(2020, 7, 15, 1), utc(2020, 7, 15, 11), utc(2020, 7, 15, 12), utc(2020, 7, 15, 23)):
        evaluate.evaluate(
            world.con, as_of, config=config, now=as_of + LIVE_LAG, overdue_digest_period=twelve_hours
        )
    assert [key.rsplit("|", 1)[1] for key, _ in _digests(world)] == [
        "period-2020-07-15T00:00:00Z",
        "period-2020-07-15T12:00:00Z",
    ]


def test_no_digest_once_nothing_is_overdue(world: World, config: EvaluationConfig) -> None:
    # EARLY and ISSUED_AFTER are listed, revoked 07-16, on the CRL fetched 07-17: revoked late.
    world.crl(utc(2020, 7, 17), [revoked(serial, utc(2020, 7, 16)) for serial in (0xE1, 0xE2, 0xE3)])
    as_of = utc(2020, 7, 18)
    evaluate.evaluate(world.con, as_of, config=config, now=as_of + LIVE_LAG)
    assert _digests(world) == []
    transitions = world.con.execute("SELECT DISTINCT transition FROM alert_outbox ORDER BY 1").fetchall()
    assert transitions == [(Transition.NEW_INCIDENT,), (Transition.REVOKED_LATE,)]
