-- Each followed log: where monitoring starts, and the head and time it started following at.
SELECT log_id, follow_from_index, first_tree_size, first_sth_timestamp, description
FROM ct_log_follow
ORDER BY log_id
