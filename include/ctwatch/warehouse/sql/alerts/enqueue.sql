-- New alerts only: a key already in the outbox (or repeated in the batch, first wins) adds nothing.
-- One statement, so it is atomic on its own and may run inside the caller's transaction.
INSERT INTO alert_outbox (
    alert_key, incident_id, der_sha256, transition, occurred_at, historical, event_json
)
WITH batch AS (
    SELECT
        unnest($alert_key::VARCHAR[]) AS alert_key,
        unnest($incident_id::VARCHAR[]) AS incident_id,
        unnest($der_sha256::VARCHAR[]) AS der_sha256,
        unnest($transition::VARCHAR[]) AS transition,
        unnest($occurred_at::TIMESTAMPTZ[]) AS occurred_at,
        unnest($historical::BOOLEAN[]) AS historical,
        unnest($event_json::VARCHAR[]) AS event_json,
        unnest(range(len($alert_key::VARCHAR[]))) AS position
)
SELECT alert_key, incident_id, der_sha256, transition, occurred_at, historical, event_json
FROM batch AS b
WHERE NOT EXISTS (SELECT 1 FROM alert_outbox AS o WHERE o.alert_key = b.alert_key)
QUALIFY row_number() OVER (PARTITION BY alert_key ORDER BY position) = 1
ORDER BY position;
