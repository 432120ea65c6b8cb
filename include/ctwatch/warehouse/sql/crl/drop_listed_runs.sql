-- Drop the runs of stage_listed_runs once the new version is fitted in.
DROP TABLE crl_listed_runs;
