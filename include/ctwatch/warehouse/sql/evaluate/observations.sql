-- Revocation observations of the named certificates made by the as-of (all of them when as_of is
-- NULL, for `explain`), earliest first.
SELECT
    certificate_der_sha256, source, observer, revoked_at_claimed, reason, first_observed_at,
    last_observed_at, last_observed_absent_at, evidence_sha256, evidence_ref
FROM revocation_observations_by_certificate
WHERE list_contains($der_sha256::VARCHAR[], certificate_der_sha256)
    AND ($as_of::TIMESTAMPTZ IS NULL OR first_observed_at <= $as_of)
ORDER BY certificate_der_sha256, first_observed_at, source, observer;
