-- The covered entry ranges of the logs $log_ids, in order (adjacent ranges are not merged).
SELECT log_id, start_index, end_exclusive
FROM ct_log_coverage
WHERE log_id IN (SELECT unnest($log_ids::VARCHAR[]))
ORDER BY log_id, start_index;
