-- The outbox as of $as_of, newest first, with each channel's delivery state.
SELECT
    o.alert_key, o.transition, o.occurred_at, o.incident_id, o.der_sha256,
    list({'channel': d.channel, 'status': d.status, 'attempts': d.attempts, 'sent_at': d.sent_at,
          'last_error': d.last_error} ORDER BY d.channel) FILTER (WHERE d.channel IS NOT NULL) AS deliveries
FROM alert_outbox AS o
LEFT JOIN alert_deliveries AS d ON d.alert_key = o.alert_key
WHERE o.occurred_at <= $as_of
GROUP BY ALL
ORDER BY o.occurred_at DESC, o.alert_key
LIMIT $limit;
