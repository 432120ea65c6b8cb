-- Per CRL URL of the given issuing-CA keys: the verified versions observed by the as-of and the
-- span of their thisUpdate.
SELECT
    first_url AS url,
    issuer_spki_sha256,
    count(*) AS versions,
    min(this_update) AS first_this_update,
    max(this_update) AS last_this_update
FROM crl_versions
WHERE issuer_spki_sha256 IN (SELECT unnest($issuer_keys::VARCHAR[]))
  AND signature_status = 'valid'
  AND first_observed_at <= $as_of
GROUP BY first_url, issuer_spki_sha256
ORDER BY first_url;
