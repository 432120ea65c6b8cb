"""The compliance clock: findings -> incidents -> deadlines -> verdicts with their basis, as of any date.

Design (issue 7; DESIGN.md "Evidence model"):

* **Scope.** A finding of an error rule on a certificate whose chain reaches a root a store
  includes (CCADB: the root record's Apple/Chrome/Microsoft/Mozilla status, or "Status of Root
  Cert") belongs to an incident per (rule, CCADB CA Owner); `Subordinate CA Owner` is shown per
  certificate. A certificate CCADB does not list takes the owner of the nearest stored issuer it
  lists. Trust is read from the CCADB snapshot at or before the clock start (declared incidents) or
  the as-of (detected ones; the earliest later snapshot when none is earlier, said in `scope_basis`).
  Declared incidents (`incidents.toml`, see `config`) cover what they name (rule and/or
  certificates) whatever the trust scope unless `trust_scope = "root_store"`.
* **Key groups.** An incident covers every certificate sharing a key (spki_sha256) with a finding,
  findings or not. Roots get `root_program_action` (an action item, no clock) and are listed, not
  waited for.
* **Clock.** The earliest demonstrable awareness by the as-of: a declared public disclosure, the
  filing of a linked Bugzilla bug (listed in the configuration, or same CA owner with a
  revocation-delay whiteboard tag, filed after the earliest member's notBefore), a recorded problem
  report ctwatch sent. ctwatch's first detection is shown, starts nothing; no start -> the
  `clock_not_started` alert. The window is `ctwatch.policy` as of the clock start; a member first
  public (CT time, else notBefore) after the clock start gets max(incident deadline, that + window).
* **Verdicts** (`verdict.judge`): on time iff claimed <= deadline and ctwatch's first observation
  <= deadline + publication allowance + the source's polling interval; else late by the larger
  excess. Unwatched history: basis `claimed_only` with the third-party bounds in words.
* **Key destruction.** For the OCSP-EKU rules a key group closes only when every non-root member is
  revoked or expired and an attestation (date, auditor, link) dated by the as-of is recorded.
* **As of.** `evaluate(con, as_of)` reads evidence made by `as_of` only (observations first
  observed by then, bugs and CCADB snapshots observed by then, certificates public by then; rule
  findings are functions of the DER, so later evaluations count) and replaces that as-of's rows:
  the same as-of twice gives the same rows. Alert events go to the outbox, keyed so a transition is
  raised once; an as-of more than a day before `now` raises historical alerts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from ctwatch.evaluate.assess import assess
from ctwatch.evaluate.config import (
    ConfigError,
    DeclaredIncident,
    EvaluationConfig,
    KeyDestruction,
    load_config,
)
from ctwatch.evaluate.model import (
    Assessment,
    Incident,
    IncidentStatus,
    KeyGroupState,
    KeyGroupStatus,
    Verdict,
)
from ctwatch.evaluate.read import incidents, key_group_status, latest_evaluation, verdicts
from ctwatch.evaluate.store import (
    alert_events,
    load_key_destructions,
    record_key_destruction,
    record_problem_report,
    save,
)
from ctwatch.evaluate.verdict import Basis, Status


def evaluate(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime,
    *,
    config: EvaluationConfig | None = None,
    now: datetime | None = None,
) -> Assessment:
    """Evaluate as of `as_of`, store the rows of that as-of and enqueue the alert events.

    `now` is the real time, only to mark alerts of a replayed past as historical (default: the
    wall clock); nothing else depends on it.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    config = config or load_config()
    load_key_destructions(con, config)
    assessment = assess(con, as_of, config)
    save(con, assessment, alert_events(assessment, now or datetime.now(UTC)))
    return assessment


__all__ = [
    "Assessment",
    "Basis",
    "ConfigError",
    "DeclaredIncident",
    "EvaluationConfig",
    "Incident",
    "IncidentStatus",
    "KeyDestruction",
    "KeyGroupState",
    "KeyGroupStatus",
    "Status",
    "Verdict",
    "assess",
    "evaluate",
    "incidents",
    "key_group_status",
    "latest_evaluation",
    "load_config",
    "record_key_destruction",
    "record_problem_report",
    "verdicts",
]
