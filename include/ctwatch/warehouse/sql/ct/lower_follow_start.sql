-- Follow a log from an earlier index: the next runs plan the entries between it and the old start.
UPDATE ct_log_follow
SET follow_from_index = $to_index
WHERE log_id = $log_id AND follow_from_index > $to_index
RETURNING follow_from_index
