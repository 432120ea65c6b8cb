-- Entries of a covered range that did not decode, with the reason.
INSERT INTO ct_entry_errors (log_id, entry_index, leaf_hash, error)
SELECT
    unnest($log_id::VARCHAR[]),
    unnest($entry_index::BIGINT[]),
    unnest($leaf_hash::BLOB[]),
    unnest($error::VARCHAR[]);
