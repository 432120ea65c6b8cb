-- 0010: drop 0001's incidents / incident_key_groups. An incident may exist before its clock starts
-- (clock_not_started), which their NOT NULL clock columns cannot hold; the evaluator writes the
-- per-as-of compliance_* tables of 0006 instead, and nothing ever wrote these.
DROP TABLE incident_key_groups;
DROP TABLE incidents;
DROP SEQUENCE incident_id_seq;
