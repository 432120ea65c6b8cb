"""Alerts: one per state transition, from the evaluator through the outbox to each channel.

The evaluator builds `AlertEvent`s and calls `enqueue`; the send_alerts DAG calls `deliver_pending`
with the channels of plugins/ctwatch_airflow/notifications.py. Formatting per channel lives in
`ctwatch.alerts.format`.
"""

from ctwatch.alerts.deliver import Channel, DeliverySummary, deliver_pending
from ctwatch.alerts.model import (
    HISTORICAL_AFTER,
    AlertEvent,
    AlertFacts,
    Transition,
    is_historical,
    overdue_week_at,
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
    "REPLAY_CHANNEL",
    "AlertEvent",
    "AlertFacts",
    "Channel",
    "DeliverySummary",
    "PendingAlert",
    "ReplaySink",
    "Transition",
    "deliver_pending",
    "enqueue",
    "is_historical",
    "mark_failed",
    "mark_sent",
    "overdue_week_at",
    "pending",
]
