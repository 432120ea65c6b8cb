-- Start following a log (kept if another run started it first).
INSERT INTO ct_log_follow (
    log_id, follow_from_index, first_tree_size, first_sth_timestamp, log_url, description
)
SELECT
    $log_id::VARCHAR, $follow_from_index::BIGINT, $first_tree_size::BIGINT,
    make_timestamptz($timestamp_ms::BIGINT * 1000), $log_url::VARCHAR, $description::VARCHAR
WHERE NOT EXISTS (SELECT 1 FROM ct_log_follow WHERE log_id = $log_id::VARCHAR);
