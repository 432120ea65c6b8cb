-- (alert, channel) pairs still to deliver, for the oldest $limit alerts that have any.
-- Historical alerts are due on the replay channel only; live alerts on every live channel given.
-- A channel is due until it has a 'sent' row; a failed one until it used $max_attempts.
WITH due AS (
    SELECT
        o.alert_key,
        o.event_json,
        o.occurred_at,
        o.enqueue_seq,
        unnest(CASE WHEN o.historical THEN [$replay_channel::VARCHAR] ELSE $live_channels::VARCHAR[] END)
            AS channel
    FROM alert_outbox AS o
),
open_due AS (
    SELECT due.*, coalesce(d.attempts, 0) AS attempts
    FROM due
    LEFT JOIN alert_deliveries AS d ON d.alert_key = due.alert_key AND d.channel = due.channel
    WHERE d.status IS NULL OR (d.status = 'failed' AND d.attempts < $max_attempts)
),
ranked AS (
    SELECT *, dense_rank() OVER (ORDER BY occurred_at, enqueue_seq) AS alert_rank FROM open_due
)
SELECT alert_key, event_json, channel, attempts
FROM ranked
WHERE alert_rank <= $limit
ORDER BY alert_rank, channel;
