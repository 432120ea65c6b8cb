-- Drop the merge plan of intervals_merge_plan once applied.
DROP TABLE crl_interval_merge;
