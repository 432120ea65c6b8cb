"""Rule findings over evaluations: idempotent per as_of, closed (never deleted) when gone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pytest

from ctwatch import warehouse
from ctwatch.rules import Finding, Severity

T1 = datetime(2020, 7, 1, tzinfo=UTC)
T2 = datetime(2020, 7, 2, tzinfo=UTC)
T3 = datetime(2020, 7, 3, tzinfo=UTC)
CERT_A = "aa" * 32
CERT_B = "bb" * 32
RULE = "e_ca_ocsp_signing_eku_without_nocheck"


@dataclass(frozen=True)
class FakeFinding:
    """Any object with these attributes is a finding to the warehouse."""

    rule_id: str
    severity: str
    der_sha256: str
    detail: str


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    # TIMESTAMPTZ read as naive UTC: fetching TIMESTAMPTZ into Python needs pytz.
    return con.execute(
        "SELECT der_sha256, rule_id, severity, detail, timezone('UTC', first_found_as_of),"
        " timezone('UTC', evaluated_as_of), timezone('UTC', resolved_as_of)"
        " FROM rule_findings ORDER BY der_sha256, rule_id"
    ).fetchall()


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def _finding(der_sha256: str, detail: str = "OCSPSigning EKU without id-pkix-ocsp-nocheck") -> FakeFinding:
    return FakeFinding(rule_id=RULE, severity="error", der_sha256=der_sha256, detail=detail)


def test_same_as_of_twice_changes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    findings = [_finding(CERT_A), _finding(CERT_B)]
    assert warehouse.store_findings(con, findings, as_of=T1) == warehouse.FindingsStored(2, 0, 0)
    before = _rows(con)
    assert warehouse.store_findings(con, findings, as_of=T1) == warehouse.FindingsStored(0, 0, 0)
    assert _rows(con) == before
    assert before[0][4:] == (_naive(T1), _naive(T1), None)


def test_rules_findings_are_accepted(con: duckdb.DuckDBPyConnection) -> None:
    real = Finding(rule_id=RULE, severity=Severity.ERROR, der_sha256=CERT_A, detail="d")
    warehouse.store_findings(con, [real], as_of=T1)
    assert _rows(con)[0][:4] == (CERT_A, RULE, str(Severity.ERROR), "d")


def test_gone_finding_is_closed_and_reopened(con: duckdb.DuckDBPyConnection) -> None:
    warehouse.store_findings(con, [_finding(CERT_A), _finding(CERT_B)], as_of=T1)
    assert warehouse.store_findings(con, [_finding(CERT_A)], as_of=T2) == warehouse.FindingsStored(0, 1, 1)
    rows = _rows(con)
    assert rows[0][4:] == (_naive(T1), _naive(T2), None)
    assert rows[1][4:] == (_naive(T1), _naive(T1), _naive(T2))  # closed, not deleted
    # closing is idempotent too
    assert warehouse.store_findings(con, [_finding(CERT_A)], as_of=T2) == warehouse.FindingsStored(0, 0, 0)

    # found again later: the same row is reopened, the first find is kept
    warehouse.store_findings(con, [_finding(CERT_A), _finding(CERT_B, detail="new")], as_of=T3)
    assert _rows(con)[1][3:] == ("new", _naive(T1), _naive(T3), None)


def test_backfill_earlier_as_of_moves_first_found_only(con: duckdb.DuckDBPyConnection) -> None:
    warehouse.store_findings(con, [_finding(CERT_A, detail="latest")], as_of=T3)
    warehouse.store_findings(con, [_finding(CERT_A, detail="older")], as_of=T1)
    assert _rows(con) == [(CERT_A, RULE, "error", "latest", _naive(T1), _naive(T3), None)]


def test_only_the_evaluated_scope_is_closed(con: duckdb.DuckDBPyConnection) -> None:
    warehouse.store_findings(con, [_finding(CERT_A), _finding(CERT_B)], as_of=T1)
    stored = warehouse.store_findings(con, [], as_of=T2, evaluated_der_sha256=[CERT_B])
    assert stored == warehouse.FindingsStored(0, 0, 1)
    stored = warehouse.store_findings(con, [], as_of=T2, evaluated_rule_ids=["e_some_other_rule"])
    assert stored == warehouse.FindingsStored(0, 0, 0)
    assert [row[6] for row in _rows(con)] == [None, _naive(T2)]


def test_failed_store_changes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    warehouse.store_findings(con, [_finding(CERT_A)], as_of=T1)
    broken = FakeFinding(rule_id=RULE, severity="error", der_sha256=CERT_B, detail=None)  # type: ignore[arg-type]
    # the update of CERT_A's detail runs before the failing insert and must be rolled back with it
    with pytest.raises(duckdb.Error):
        warehouse.store_findings(con, [_finding(CERT_A, detail="changed"), broken], as_of=T2)
    assert _rows(con) == [(CERT_A, RULE, "error", _finding(CERT_A).detail, _naive(T1), _naive(T1), None)]


def test_naive_as_of_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        warehouse.store_findings(con, [], as_of=datetime(2020, 7, 1))
