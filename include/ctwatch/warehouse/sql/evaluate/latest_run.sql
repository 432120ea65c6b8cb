-- The latest evaluated as-of at or before the given time (NULL: none).
SELECT max(as_of) FROM compliance_runs WHERE as_of <= $as_of;
