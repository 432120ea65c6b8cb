"""Alerts: one per state transition, and one still_overdue digest per incident and period, from the
evaluator through the outbox to each channel.

The evaluator builds `AlertEvent`s and calls `enqueue`; the send_alerts DAG calls `deliver_pending`
with the channels of plugins/ctwatch_airflow/notifications.py. Formatting per channel lives in
`ctwatch.alerts.format`.
"""

from ctwatch.alerts.deliver import Channel, DeliverySummary, deliver_pending
from ctwatch.alerts.model import (
    HISTORICAL_AFTER,
    OVERDUE_DIGEST_PERIOD,
    AlertEvent,
    AlertFacts,
    OverdueCertificate,
    OverdueDigest,
    Transition,
    is_historical,
    overdue_digest_of,
)
from ctwatch.alerts.outbox import (
    DEFAULT_MAX_ATTEMPTS,
    REPLAY_CHANNEL,
    PendingAlert,
    enqueue,
    mark_failed,
    mark_sent,
    pending,
)
from ctwatch.alerts.replay import ReplaySink

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "HISTORICAL_AFTER",
    "OVERDUE_DIGEST_PERIOD",
    "REPLAY_CHANNEL",
    "AlertEvent",
    "AlertFacts",
    "Channel",
    "DeliverySummary",
    "OverdueCertificate",
    "OverdueDigest",
    "PendingAlert",
    "ReplaySink",
    "Transition",
    "deliver_pending",
    "enqueue",
    "is_historical",
    "mark_failed",
    "mark_sent",
    "overdue_digest_of",
    "pending",
]
