"""The compliance clock: findings -> incidents -> deadlines -> verdicts with their basis, as of any date.

The rules, for users, are in docs/verdicts.md; in short:

* **Scope.** A finding of an error rule on a certificate whose chain reaches a root a store
  includes (CCADB) belongs to an incident per (rule, CCADB CA Owner) (`scope`). Declared incidents
  (`config`) cover what they name whatever the trust scope unless `trust_scope = "root_store"`.
* **Key groups.** Where the key must be destroyed (the OCSP-EKU rules), an incident covers every
  certificate sharing a key with a finding; one issued under another CA owner is that owner's
  notification item, without a deadline. Roots are root-program action items (`key_groups`).
* **Clock** (`clock`): the earliest demonstrable awareness by the as-of: a declared instant, a
  bug the incident lists, a problem report; for a detected incident, a revocation-delay bug of the
  owner that names a member or was filed after ctwatch's detection. A certificate issued after the
  clock start gets the window from the earlier of its notBefore and its first CT time.
* **Verdicts** (`verdict`): only the CA's CRL or OCSP settle; an uncontradicted report may settle
  history nobody watched (`reported_only`); browser blocks never settle; publication is judged from
  ctwatch's observations with and without the entry, never from an assumed polling interval.
* **As of.** `evaluate(con, as_of)` reads evidence made by `as_of` only (observations first
  observed by then, bugs, reports and attestations recorded by then, certificates public by then;
  rule findings are functions of the DER, so later evaluations count) and replaces that as-of's
  rows: the same as-of twice gives the same rows. Alert events go to the outbox, keyed so a
  transition is raised once; an as-of more than a day before `now` raises historical alerts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from ctwatch import alerts
from ctwatch.alerts import OVERDUE_DIGEST_PERIOD
from ctwatch.evaluate.assess import assess, incident_status
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
from ctwatch.evaluate.plan_progress import PlanProgress, PointKind, PointState, measure_plans
from ctwatch.evaluate.plan_store import plan_events, read_plans
from ctwatch.evaluate.plans import DeclaredPlan, Milestone
from ctwatch.evaluate.read import incidents, key_group_status, latest_evaluation, verdicts
from ctwatch.evaluate.store import (
    alert_events,
    load_key_destructions,
    record_key_destruction,
    record_problem_report,
    save,
)
from ctwatch.evaluate.verdict import Basis, Status
from ctwatch.timeutil import require_aware


def evaluate(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime,
    *,
    config: EvaluationConfig | None = None,
    now: datetime | None = None,
    overdue_digest_period: timedelta = OVERDUE_DIGEST_PERIOD,
) -> Assessment:
    """Evaluate as of `as_of`, store the rows of that as-of and enqueue the alert events.

    `now` is the real time, only to mark alerts of a replayed past as historical (default: the
    wall clock); nothing else depends on it. `overdue_digest_period` is how often a live
    evaluation lists an incident's overdue certificates (`alert_events`).
    """
    require_aware(as_of, "as_of")
    config = config or load_config()
    load_key_destructions(con, config)
    assessment = assess(con, as_of, config)
    progresses = measure_plans(con, assessment, config.plans)
    now = now or datetime.now(UTC)
    events = alert_events(assessment, now, overdue_digest_period=overdue_digest_period)
    incidents_by_id = {i.incident_id: i for i in assessment.incidents}
    events += plan_events(progresses, incidents_by_id, historical=alerts.is_historical(as_of, now))
    save(con, assessment, events, progresses)
    return assessment


__all__ = [
    "Assessment",
    "Basis",
    "ConfigError",
    "DeclaredIncident",
    "DeclaredPlan",
    "EvaluationConfig",
    "Incident",
    "IncidentStatus",
    "KeyDestruction",
    "KeyGroupState",
    "KeyGroupStatus",
    "Milestone",
    "PlanProgress",
    "PointKind",
    "PointState",
    "Status",
    "Verdict",
    "assess",
    "evaluate",
    "incident_status",
    "incidents",
    "key_group_status",
    "latest_evaluation",
    "load_config",
    "read_plans",
    "record_key_destruction",
    "record_problem_report",
    "verdicts",
]
