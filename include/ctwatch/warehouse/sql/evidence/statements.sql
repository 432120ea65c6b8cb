-- What others say about each named certificate by $as_of (first observed by then): crt.sh's view of
-- the CA's CRL, the CA's reports (CCADB status, Mozilla's revoked-intermediates report) and the
-- root programs' blocks (OneCRL, CRLSet).
SELECT
    certificate_der_sha256 AS der_sha256, source, observer, revoked_at_claimed, reason, first_observed_at,
    evidence_sha256, evidence_ref
FROM revocation_observations_by_certificate
WHERE list_contains($der_sha256::VARCHAR[], certificate_der_sha256)
    AND source IN ('crtsh', 'ccadb', 'mozilla_revoked', 'onecrl', 'crlset')
    AND first_observed_at <= $as_of
ORDER BY der_sha256, first_observed_at, source, observer;
