-- crt.sh issuer searches of the given keys made by the as-of, newest first.
SELECT
    search_id, issuer_spki_sha256, crtsh_ca_id, url, min_not_before, observed_at, queries,
    rows_returned, truncated, error
FROM crtsh_issuer_searches
WHERE issuer_spki_sha256 IN (SELECT unnest($issuer_keys::VARCHAR[]))
  AND observed_at <= $as_of
ORDER BY observed_at DESC, search_id DESC;
