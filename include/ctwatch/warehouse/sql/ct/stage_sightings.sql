-- The batch's CT sightings of chain certificates reduced to the earliest per (certificate, log)
-- (timestamp, then index), as one temp table for update_sightings / insert_sightings.
CREATE OR REPLACE TEMP TABLE ct_sighting_batch AS
WITH batch AS (
    SELECT
        unnest($der_sha256::VARCHAR[]) AS der_sha256,
        unnest($log_id::VARCHAR[]) AS log_id,
        unnest($entry_index::BIGINT[]) AS entry_index,
        unnest($timestamp_ms::BIGINT[]) AS timestamp_ms,
        unnest($tree_size::BIGINT[]) AS tree_size,
        unnest($sth_timestamp_ms::BIGINT[]) AS sth_timestamp_ms,
        unnest($sth_root_hash::VARCHAR[]) AS sth_root_hash
)
SELECT
    der_sha256, log_id, entry_index, make_timestamptz(timestamp_ms * 1000) AS entry_timestamp, tree_size,
    make_timestamptz(sth_timestamp_ms * 1000) AS sth_timestamp, sth_root_hash
FROM batch
QUALIFY row_number() OVER (PARTITION BY der_sha256, log_id ORDER BY timestamp_ms, entry_index) = 1;
