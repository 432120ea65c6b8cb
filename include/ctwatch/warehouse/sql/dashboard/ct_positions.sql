-- evaluate/ct_positions for many certificates at once (the dashboard's snapshot): per certificate,
-- its recorded sightings, else its first_seen_source position with the covering tree heads; each
-- with the entry's leaf hash where kept.
WITH wanted AS (
    SELECT DISTINCT unnest($der_sha256::VARCHAR[]) AS der_sha256
),
sightings AS (
    SELECT
        s.der_sha256, 'sighting' AS kind, s.log_id, s.entry_index, s.entry_timestamp,
        NULL::BIGINT AS start_index, NULL::BIGINT AS end_exclusive, s.tree_size, s.sth_timestamp,
        s.sth_root_hash
    FROM certificate_ct_sightings AS s
    JOIN wanted AS w ON w.der_sha256 = s.der_sha256
),
positions AS (
    SELECT DISTINCT
        c.der_sha256,
        split_part(c.first_seen_source, ':', 2) AS log_id,
        TRY_CAST(split_part(c.first_seen_source, ':', 3) AS BIGINT) AS entry_index
    FROM certificates AS c
    JOIN wanted AS w ON w.der_sha256 = c.der_sha256
    WHERE c.first_seen_source LIKE 'ct:%'
        AND NOT EXISTS (SELECT 1 FROM sightings AS s WHERE s.der_sha256 = c.der_sha256)
),
first_seen AS (
    SELECT
        p.der_sha256, 'first_seen_source' AS kind, p.log_id, p.entry_index, l.entry_timestamp,
        cov.start_index, cov.end_exclusive, cov.tree_size, cov.sth_timestamp, cov.sth_root_hash
    FROM positions AS p
    LEFT JOIN ct_leaves AS l ON l.log_id = p.log_id AND l.entry_index = p.entry_index
    LEFT JOIN ct_log_coverage AS cov
        ON cov.log_id = p.log_id AND p.entry_index >= cov.start_index AND p.entry_index < cov.end_exclusive
)
SELECT
    found.der_sha256, found.kind, found.log_id, found.entry_index, found.entry_timestamp,
    leaf.leaf_hash_hex, found.start_index, found.end_exclusive, found.tree_size, found.sth_timestamp,
    found.sth_root_hash
FROM (SELECT * FROM sightings UNION ALL SELECT * FROM first_seen) AS found
LEFT JOIN ct_leaves_hex AS leaf ON leaf.log_id = found.log_id AND leaf.entry_index = found.entry_index
ORDER BY found.der_sha256, found.entry_timestamp NULLS LAST, found.log_id, found.entry_index,
    found.sth_timestamp;
