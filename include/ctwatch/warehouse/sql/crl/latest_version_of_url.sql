-- The version the newest successful fetch of $url served (what a 304 Not Modified confirms).
SELECT version_id
FROM crl_fetches
WHERE url = $url AND version_id IS NOT NULL
ORDER BY observed_at DESC
LIMIT 1;
