-- The largest verified head stored per log (the earliest signed one of that size).
SELECT log_id, tree_size, epoch_ms(sth_timestamp) AS timestamp_ms, root_hash, signature, signature_format
FROM ct_tree_heads
QUALIFY row_number() OVER (PARTITION BY log_id ORDER BY tree_size DESC, sth_timestamp) = 1;
