-- Keys of CA certificates with an open error or warning finding: their leaves are kept in full.
SELECT DISTINCT c.spki_sha256
FROM rule_findings AS f
JOIN certificates AS c ON c.der_sha256 = f.der_sha256
WHERE f.resolved_as_of IS NULL
  AND f.severity IN ('error', 'warning')
  AND c.spki_sha256 IS NOT NULL
ORDER BY c.spki_sha256;
