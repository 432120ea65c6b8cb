-- A channel accepted the alert: final. A later duplicate report keeps the first sent_at.
INSERT INTO alert_deliveries AS d (
    alert_key, channel, status, attempts, last_attempt_at, sent_at, response_summary
)
VALUES ($alert_key, $channel, 'sent', 1, $sent_at, $sent_at, $response_summary)
ON CONFLICT (alert_key, channel) DO UPDATE SET
    status = 'sent',
    attempts = d.attempts + 1,
    last_attempt_at = excluded.last_attempt_at,
    sent_at = excluded.sent_at,
    response_summary = excluded.response_summary
WHERE d.status <> 'sent';
