-- Rank the partition's versions by content order, not arrival order, and mark which changed the
-- entry set relative to the version ranked before.
UPDATE crl_versions
SET position = ranked.position, entry_set_changed = ranked.changed
FROM (
    SELECT
        version_id,
        row_number() OVER content_order AS position,
        coalesce(lag(entry_set_digest) OVER content_order <> entry_set_digest, true) AS changed
    FROM crl_versions
    WHERE partition_key = $partition_key
    WINDOW content_order AS (ORDER BY this_update, crl_number_order NULLS FIRST, crl_sha256)
) AS ranked
WHERE crl_versions.version_id = ranked.version_id;
