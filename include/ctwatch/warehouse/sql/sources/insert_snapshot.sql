-- One snapshot row; the id comes back for its sightings.
INSERT INTO revocation_snapshots (
    source, observer, observed_at, stamp_kind, location, content_sha256, raw_header,
    lists_all_revoked, record_count, error_count
)
VALUES (
    $source, $observer, $observed_at, $stamp_kind, $location, $content_sha256, $raw_header,
    $lists_all_revoked, $record_count, $error_count
)
RETURNING id;
