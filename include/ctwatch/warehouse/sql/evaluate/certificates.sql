-- Certificates named by key (spki_sha256) or hash, with their first CT time: the earliest recorded
-- sighting over all logs (certificate_ct_sightings: entry timestamp). Certificates loaded before
-- sightings were recorded fall back to their first_seen_source position: the entry timestamp where
-- the warehouse kept that entry (ct_leaves), else the timestamp of the tree head whose covered range
-- holds the position (an upper bound).
WITH wanted AS (
    SELECT
        c.*,
        CASE WHEN c.first_seen_source LIKE 'ct:%' THEN split_part(c.first_seen_source, ':', 2) END AS ct_log_id,
        CASE WHEN c.first_seen_source LIKE 'ct:%'
            THEN TRY_CAST(split_part(c.first_seen_source, ':', 3) AS BIGINT) END AS ct_index
    FROM certificates AS c
    WHERE list_contains($spki_sha256::VARCHAR[], c.spki_sha256)
        OR list_contains($der_sha256::VARCHAR[], c.der_sha256)
),
earliest AS (
    SELECT s.der_sha256, s.log_id, s.entry_index, s.entry_timestamp
    FROM certificate_ct_sightings AS s
    WHERE s.der_sha256 IN (SELECT der_sha256 FROM wanted)
    QUALIFY row_number() OVER (
        PARTITION BY s.der_sha256 ORDER BY s.entry_timestamp, s.log_id, s.entry_index
    ) = 1
)
SELECT
    w.der_sha256, w.spki_sha256, w.kind, w.is_ca, w.subject_rfc4514, w.issuer_rfc4514, w.serial_hex,
    w.not_before, w.not_after, w.san_dns_names,
    e.log_id AS sighting_log_id, e.entry_index AS sighting_index, e.entry_timestamp AS sighting_at,
    w.ct_log_id, w.ct_index,
    (SELECT min(l.entry_timestamp) FROM ct_leaves AS l
        WHERE l.log_id = w.ct_log_id AND l.entry_index = w.ct_index) AS ct_entry_at,
    (SELECT min(cov.sth_timestamp) FROM ct_log_coverage AS cov
        WHERE cov.log_id = w.ct_log_id AND w.ct_index >= cov.start_index AND w.ct_index < cov.end_exclusive)
        AS ct_covered_at,
    (SELECT min(pre.der_sha256) FROM certificates AS pre
        WHERE pre.precert_poison AND NOT w.precert_poison AND pre.issuer_der = w.issuer_der
            AND pre.serial_hex = w.serial_hex) AS precert_der_sha256
FROM (SELECT DISTINCT ON (der_sha256) * FROM wanted) AS w
LEFT JOIN earliest AS e ON e.der_sha256 = w.der_sha256
ORDER BY w.der_sha256;
