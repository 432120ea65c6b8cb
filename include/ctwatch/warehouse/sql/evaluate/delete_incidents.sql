-- Outputs of one as-of are replaced as a whole by the next evaluation of it.
DELETE FROM compliance_incidents WHERE as_of = $as_of;
