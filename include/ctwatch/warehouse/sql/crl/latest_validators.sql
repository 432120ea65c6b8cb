-- ETag and Last-Modified of the newest fetch of $url that served a version (for a conditional GET).
SELECT etag, last_modified
FROM crl_fetches
WHERE url = $url AND version_id IS NOT NULL
ORDER BY observed_at DESC
LIMIT 1;
