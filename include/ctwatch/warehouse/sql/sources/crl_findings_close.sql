-- Open CRL findings this evaluation no longer finds are resolved as of it.
UPDATE crl_findings AS d
SET resolved_as_of = $as_of
WHERE d.resolved_as_of IS NULL AND d.evaluated_as_of < $as_of
    AND NOT list_contains($finding_key::VARCHAR[], d.finding_key);
