-- Ranges [start_index, end_exclusive) now fully ingested, each with the verified head that covers it.
INSERT INTO ct_log_coverage (log_id, start_index, end_exclusive, tree_size, sth_timestamp, sth_root_hash)
SELECT
    unnest($log_id::VARCHAR[]),
    unnest($start_index::BIGINT[]),
    unnest($end_exclusive::BIGINT[]),
    unnest($tree_size::BIGINT[]),
    make_timestamptz(unnest($timestamp_ms::BIGINT[]) * 1000),
    unnest($root_hash::VARCHAR[]);
