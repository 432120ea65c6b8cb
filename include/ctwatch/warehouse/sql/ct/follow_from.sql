-- Where live monitoring of each followed log starts.
SELECT log_id, follow_from_index FROM ct_log_follow;
