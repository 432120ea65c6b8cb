-- Refused heads and ranges; the same observation stored again (a retried task) adds nothing.
INSERT INTO ct_verification_failures (
    log_id, observed_at, kind, tree_size, previous_tree_size, start_index, end_exclusive,
    expected_hex, served_hex, detail
)
WITH batch AS (
    SELECT
        unnest($log_id::VARCHAR[]) AS log_id,
        unnest($observed_at::TIMESTAMPTZ[]) AS observed_at,
        unnest($kind::VARCHAR[]) AS kind,
        unnest($tree_size::BIGINT[]) AS tree_size,
        unnest($previous_tree_size::BIGINT[]) AS previous_tree_size,
        unnest($start_index::BIGINT[]) AS start_index,
        unnest($end_exclusive::BIGINT[]) AS end_exclusive,
        unnest($expected_hex::VARCHAR[]) AS expected_hex,
        unnest($served_hex::VARCHAR[]) AS served_hex,
        unnest($detail::VARCHAR[]) AS detail
)
SELECT DISTINCT b.*
FROM batch AS b
WHERE NOT EXISTS (
    SELECT 1 FROM ct_verification_failures AS f
    WHERE f.log_id = b.log_id
        AND f.observed_at = b.observed_at
        AND f.kind = b.kind
        AND f.tree_size IS NOT DISTINCT FROM b.tree_size
        AND f.start_index IS NOT DISTINCT FROM b.start_index
);
