-- Certificates a report (CCADB status, Mozilla's revoked-intermediates report) says are revoked,
-- as observed by $as_of, with whether each is a CA certificate (its publication allowance).
SELECT DISTINCT o.certificate_der_sha256 AS der_sha256, c.is_ca
FROM revocation_observations_by_certificate AS o
JOIN certificates AS c ON c.der_sha256 = o.certificate_der_sha256
WHERE o.source IN ('ccadb', 'mozilla_revoked') AND o.first_observed_at <= $as_of
ORDER BY der_sha256;
