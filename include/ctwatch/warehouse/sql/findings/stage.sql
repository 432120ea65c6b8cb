-- The evaluation's findings as one temp table, one row per (certificate, rule); if a batch
-- repeats a pair, the first by (severity, detail) wins so the result is deterministic.
CREATE OR REPLACE TEMP TABLE finding_batch AS
WITH batch AS (
    SELECT
        unnest($der_sha256::VARCHAR[]) AS der_sha256,
        unnest($rule_id::VARCHAR[]) AS rule_id,
        unnest($severity::VARCHAR[]) AS severity,
        unnest($detail::VARCHAR[]) AS detail
)
SELECT * FROM batch
QUALIFY row_number() OVER (PARTITION BY der_sha256, rule_id ORDER BY severity, detail) = 1;
