"""Rule findings over time: one row per (certificate, rule), opened, kept current, closed."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import duckdb

from ctwatch.timeutil import require_aware
from ctwatch.warehouse._db import row_count, transaction
from ctwatch.warehouse.sqlfiles import load_sql


class FindingLike(Protocol):
    """What the warehouse needs from a finding (ctwatch.rules.Finding fits)."""

    @property
    def rule_id(self) -> str: ...
    @property
    def severity(self) -> str: ...  # a StrEnum member is a str
    @property
    def der_sha256(self) -> str: ...
    @property
    def detail(self) -> str: ...


@dataclass(frozen=True, slots=True)
class FindingsStored:
    opened: int  # (certificate, rule) pairs found for the first time
    updated: int  # existing rows changed: newer evaluation, earlier first find, or reopened
    resolved: int  # open findings this evaluation no longer reports


def store_findings(
    con: duckdb.DuckDBPyConnection,
    findings: Sequence[FindingLike],
    as_of: datetime,
    *,
    evaluated_der_sha256: Collection[str] | None = None,
    evaluated_rule_ids: Collection[str] | None = None,
) -> FindingsStored:
    """Record the findings of an evaluation as of `as_of`, all or nothing.

    Storing the same findings for the same `as_of` again changes nothing. An open finding that a
    later evaluation does not report is closed with `resolved_as_of = as_of`. Only findings inside
    the evaluated scope are closed: pass `evaluated_der_sha256` / `evaluated_rule_ids` when the
    evaluation covered only some certificates or rules (None means all of them).
    """
    require_aware(as_of, "as_of")
    batch = {
        "der_sha256": [f.der_sha256 for f in findings],
        "rule_id": [f.rule_id for f in findings],
        "severity": [str(f.severity) for f in findings],
        "detail": [f.detail for f in findings],
    }
    scope = {
        "scope_der_sha256": None if evaluated_der_sha256 is None else list(evaluated_der_sha256),
        "scope_rule_ids": None if evaluated_rule_ids is None else list(evaluated_rule_ids),
    }
    with transaction(con):
        con.execute(load_sql("findings/stage"), batch)
        updated = row_count(con.execute(load_sql("findings/update_present"), {"as_of": as_of}))
        opened = row_count(con.execute(load_sql("findings/insert_new"), {"as_of": as_of}))
        resolved = row_count(con.execute(load_sql("findings/close_absent"), {"as_of": as_of, **scope}))
        con.execute(load_sql("findings/drop_stage"))
    return FindingsStored(opened=opened, updated=updated, resolved=resolved)
