-- Findings seen again: widen [first_found_as_of, evaluated_as_of] to include $as_of, take
-- severity/detail from the latest evaluation, reopen a finding closed at or before $as_of.
-- Rows that would not change are not written, so the same $as_of twice changes nothing.
UPDATE rule_findings AS f
SET
    severity = CASE WHEN $as_of::TIMESTAMPTZ >= f.evaluated_as_of THEN b.severity ELSE f.severity END,
    detail = CASE WHEN $as_of::TIMESTAMPTZ >= f.evaluated_as_of THEN b.detail ELSE f.detail END,
    first_found_as_of = least(f.first_found_as_of, $as_of::TIMESTAMPTZ),
    evaluated_as_of = greatest(f.evaluated_as_of, $as_of::TIMESTAMPTZ),
    resolved_as_of = CASE WHEN $as_of::TIMESTAMPTZ >= f.resolved_as_of THEN NULL ELSE f.resolved_as_of END
FROM finding_batch AS b
WHERE f.der_sha256 = b.der_sha256
  AND f.rule_id = b.rule_id
  AND (
      $as_of::TIMESTAMPTZ > f.evaluated_as_of
      OR $as_of::TIMESTAMPTZ < f.first_found_as_of
      OR $as_of::TIMESTAMPTZ >= f.resolved_as_of
      OR ($as_of::TIMESTAMPTZ = f.evaluated_as_of AND (f.severity, f.detail) <> (b.severity, b.detail))
  );
