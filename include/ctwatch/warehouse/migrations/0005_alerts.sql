-- 0005: the alert outbox (docs/design.md, "The Airflow shape").
-- One row per state transition, keyed by (incident, certificate, transition[, overdue week]);
-- one delivery row per (alert, channel), so a retried or re-run send skips what was delivered.
-- Stands alone: no reference to the evaluator's tables, the event JSON carries what a message shows.

CREATE SEQUENCE alert_outbox_seq;

CREATE TABLE alert_outbox (
    alert_key VARCHAR PRIMARY KEY,  -- ctwatch.alerts.AlertEvent.key
    incident_id VARCHAR NOT NULL,
    der_sha256 VARCHAR,  -- NULL: an incident-level alert
    transition VARCHAR NOT NULL,  -- ctwatch.alerts.Transition value
    overdue_week INTEGER,  -- still_overdue only
    occurred_at TIMESTAMPTZ NOT NULL,  -- as-of of the evaluation that saw the transition
    historical BOOLEAN NOT NULL,  -- raised while replaying the past: replay sink only
    event_json VARCHAR NOT NULL,  -- the AlertEvent, as ctwatch.alerts.model encodes it
    enqueued_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,  -- wall clock, not evidence
    enqueue_seq BIGINT NOT NULL DEFAULT nextval('alert_outbox_seq')  -- send order among equal times
);
COMMENT ON TABLE alert_outbox IS
    'One alert per state transition; enqueuing the same key again adds nothing.';

CREATE TABLE alert_deliveries (
    alert_key VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,  -- 'slack', 'email', 'webhook', or 'replay' for historical alerts
    status VARCHAR NOT NULL CHECK (status IN ('sent', 'failed')),
    attempts INTEGER NOT NULL CHECK (attempts >= 1),
    last_attempt_at TIMESTAMPTZ NOT NULL,  -- wall clock of the latest send attempt
    sent_at TIMESTAMPTZ,  -- set once, when the channel accepted the message
    response_summary VARCHAR,
    last_error VARCHAR,
    PRIMARY KEY (alert_key, channel)
);
COMMENT ON TABLE alert_deliveries IS
    'Delivery state per (alert, channel): sent rows are final; failed rows are retried until the attempt limit.';
