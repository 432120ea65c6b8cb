-- The snapshot already stored for these bytes at this observation time (re-imports are no-ops).
SELECT id
FROM revocation_snapshots
WHERE source = $source AND content_sha256 = $content_sha256 AND observed_at = $observed_at
    AND location = $location
LIMIT 1;
