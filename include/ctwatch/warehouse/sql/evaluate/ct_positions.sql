-- Where CT shows one certificate: its first recorded position, the entry there when kept, and the
-- verified tree head whose covered range holds it.
WITH positions AS (
    SELECT
        split_part(first_seen_source, ':', 2) AS log_id,
        TRY_CAST(split_part(first_seen_source, ':', 3) AS BIGINT) AS entry_index
    FROM certificates
    WHERE der_sha256 = $der_sha256 AND first_seen_source LIKE 'ct:%'
)
SELECT
    p.log_id, p.entry_index, l.entry_timestamp, l.leaf_hash_hex, cov.start_index, cov.end_exclusive,
    cov.tree_size, cov.sth_timestamp, cov.sth_root_hash
FROM (SELECT DISTINCT * FROM positions) AS p
LEFT JOIN ct_leaves_hex AS l ON l.log_id = p.log_id AND l.entry_index = p.entry_index
LEFT JOIN ct_log_coverage AS cov
    ON cov.log_id = p.log_id AND p.entry_index >= cov.start_index AND p.entry_index < cov.end_exclusive
ORDER BY p.log_id, p.entry_index, cov.sth_timestamp;
