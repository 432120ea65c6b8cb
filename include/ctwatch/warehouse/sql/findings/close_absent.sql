-- Open findings that this later evaluation no longer reports are closed, not deleted.
-- Only (certificate, rule) pairs inside the evaluated scope are judged; a NULL scope means all.
UPDATE rule_findings AS f
SET resolved_as_of = $as_of::TIMESTAMPTZ
WHERE f.resolved_as_of IS NULL
  AND f.evaluated_as_of < $as_of::TIMESTAMPTZ
  AND ($scope_der_sha256::VARCHAR[] IS NULL
       OR f.der_sha256 IN (SELECT unnest($scope_der_sha256::VARCHAR[])))
  AND ($scope_rule_ids::VARCHAR[] IS NULL
       OR f.rule_id IN (SELECT unnest($scope_rule_ids::VARCHAR[])))
  AND NOT EXISTS (
      SELECT 1 FROM finding_batch AS b WHERE b.der_sha256 = f.der_sha256 AND b.rule_id = f.rule_id
  );
