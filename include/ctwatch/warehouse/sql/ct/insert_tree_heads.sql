-- Verified tree heads, each (log, size, root) once: a head seen again (a re-run, or an
-- unchanged log answering with a fresh timestamp) adds nothing.
INSERT INTO ct_tree_heads (log_id, tree_size, sth_timestamp, root_hash, signature, signature_format)
WITH batch AS (
    SELECT
        unnest($log_id::VARCHAR[]) AS log_id,
        unnest($tree_size::BIGINT[]) AS tree_size,
        unnest($timestamp_ms::BIGINT[]) AS timestamp_ms,
        unnest($root_hash::VARCHAR[]) AS root_hash,
        unnest($signature::BLOB[]) AS signature,
        unnest($signature_format::VARCHAR[]) AS signature_format
)
SELECT b.log_id, b.tree_size, make_timestamptz(b.timestamp_ms * 1000), b.root_hash, b.signature, b.signature_format
FROM batch AS b
WHERE NOT EXISTS (
    SELECT 1 FROM ct_tree_heads AS h
    WHERE h.log_id = b.log_id AND h.tree_size = b.tree_size AND h.root_hash = b.root_hash
)
QUALIFY row_number() OVER (PARTITION BY b.log_id, b.tree_size, b.root_hash ORDER BY b.timestamp_ms) = 1;
