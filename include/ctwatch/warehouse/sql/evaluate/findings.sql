-- Error findings (any rule) and findings of the rules declared incidents name, one row per
-- (certificate, rule), with ctwatch's first detection. Rules are functions of the DER, so a
-- finding recorded by a later evaluation holds for earlier as-ofs too.
SELECT der_sha256, rule_id, min(first_found_as_of) AS first_found_as_of
FROM rule_findings
WHERE severity = 'error' OR list_contains($declared_rules::VARCHAR[], rule_id)
GROUP BY der_sha256, rule_id
ORDER BY der_sha256, rule_id;
