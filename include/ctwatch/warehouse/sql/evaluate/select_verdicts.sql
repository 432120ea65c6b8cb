-- The stored rows of one evaluated as-of.
SELECT * FROM compliance_verdicts WHERE as_of = $as_of ORDER BY ALL;
