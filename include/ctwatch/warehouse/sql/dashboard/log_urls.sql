-- Where each followed CT log answers, by log id.
SELECT log_id, log_url FROM ct_log_follow;
