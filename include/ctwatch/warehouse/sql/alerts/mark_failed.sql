-- A send attempt failed: count it. A delivery already marked sent stays sent.
INSERT INTO alert_deliveries AS d (alert_key, channel, status, attempts, last_attempt_at, last_error)
VALUES ($alert_key, $channel, 'failed', 1, $failed_at, $error)
ON CONFLICT (alert_key, channel) DO UPDATE SET
    attempts = d.attempts + 1,
    last_attempt_at = excluded.last_attempt_at,
    last_error = excluded.last_error
WHERE d.status <> 'sent'
RETURNING attempts;
