-- Every URL a partition was fetched from or names in its IDP.
SELECT v.partition_key, list(DISTINCT u.url ORDER BY u.url) AS urls
FROM crl_versions AS v
JOIN (
    SELECT version_id, url FROM crl_fetches WHERE version_id IS NOT NULL
    UNION ALL
    SELECT version_id, unnest(idp_uris) FROM crl_versions
) AS u ON u.version_id = v.version_id
GROUP BY v.partition_key
ORDER BY v.partition_key;
