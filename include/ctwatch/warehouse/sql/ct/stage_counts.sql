-- The batch's daily counts summed per key, as one temp table for update_counts / insert_counts.
CREATE OR REPLACE TEMP TABLE ct_count_batch AS
WITH batch AS (
    SELECT
        unnest($log_id::VARCHAR[]) AS log_id,
        unnest($issuer_spki_sha256::VARCHAR[]) AS issuer_spki_sha256,
        unnest($day::INTEGER[]) AS day_number,
        unnest($precert::BOOLEAN[]) AS precert,
        unnest($entries::BIGINT[]) AS entries
)
SELECT log_id, issuer_spki_sha256, DATE '1970-01-01' + day_number AS day, precert, sum(entries)::BIGINT AS entries
FROM batch
GROUP BY ALL;
