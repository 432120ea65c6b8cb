-- The latest snapshot of one source observed by an as-of: when its last successful fetch was.
SELECT max(observed_at) AS observed_at
FROM revocation_snapshots
WHERE source = $source AND observed_at <= $as_of
