-- Drop the entry stage once its version is archived or refused.
DROP TABLE crl_stage_entries;
