-- Leaf rows of watched issuers; times arrive as epoch milliseconds / seconds.
INSERT INTO ct_leaves (
    log_id, entry_index, entry_timestamp, leaf_hash, precert, issuer_spki_sha256, serial, not_before, not_after
)
WITH batch AS (
    SELECT
        unnest($log_id::VARCHAR[]) AS log_id,
        unnest($entry_index::BIGINT[]) AS entry_index,
        unnest($timestamp_ms::BIGINT[]) AS timestamp_ms,
        unnest($leaf_hash::BLOB[]) AS leaf_hash,
        unnest($precert::BOOLEAN[]) AS precert,
        unnest($issuer_spki_sha256::VARCHAR[]) AS issuer_spki_sha256,
        unnest($serial::BLOB[]) AS serial,
        unnest($not_before_s::BIGINT[]) AS not_before_s,
        unnest($not_after_s::BIGINT[]) AS not_after_s
)
SELECT
    log_id, entry_index, make_timestamptz(timestamp_ms * 1000), leaf_hash, precert, issuer_spki_sha256,
    serial, make_timestamptz(not_before_s * 1000000), make_timestamptz(not_after_s * 1000000)
FROM batch
ORDER BY log_id, entry_index;
