-- Findings never seen before for this (certificate, rule).
INSERT INTO rule_findings (der_sha256, rule_id, severity, detail, first_found_as_of, evaluated_as_of)
SELECT b.der_sha256, b.rule_id, b.severity, b.detail, $as_of::TIMESTAMPTZ, $as_of::TIMESTAMPTZ
FROM finding_batch AS b
WHERE NOT EXISTS (
    SELECT 1 FROM rule_findings AS f WHERE f.der_sha256 = b.der_sha256 AND f.rule_id = b.rule_id
);
