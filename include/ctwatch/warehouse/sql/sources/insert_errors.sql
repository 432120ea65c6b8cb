-- Malformed records (or a failed fetch) of a revocation source, kept with their reason.
INSERT INTO revocation_source_errors (snapshot_id, source, location, record_ref, error, recorded_at)
SELECT
    $snapshot_id,
    $source,
    $location,
    unnest($record_ref::VARCHAR[]),
    unnest($error::VARCHAR[]),
    $recorded_at;
