-- The first observation (up to as_of) of each version made after its nextUpdate had passed.
SELECT v.partition_key, v.crl_sha256, v.next_update, min(fe.observed_at) AS observed_at, fe.url
FROM crl_fetches AS fe
JOIN crl_versions AS v ON v.version_id = fe.version_id
WHERE fe.observed_at > v.next_update AND fe.observed_at <= $as_of
GROUP BY ALL
ORDER BY v.partition_key, v.next_update, fe.url;
