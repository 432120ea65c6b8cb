-- Drop the daily-count batch of stage_counts once merged.
DROP TABLE ct_count_batch;
