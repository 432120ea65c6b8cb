-- The stored rows of one evaluated as-of.
SELECT * FROM compliance_key_groups WHERE as_of = $as_of ORDER BY ALL;
