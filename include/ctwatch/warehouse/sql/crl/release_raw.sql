-- Versions whose raw file is no longer needed: they did not change the entry set and are not among
-- the newest $keep_newest versions of their URL (by content order).
SELECT version_id, raw_path
FROM (
    SELECT version_id, raw_path, entry_set_changed,
        row_number() OVER (
            PARTITION BY first_url
            ORDER BY this_update DESC, crl_number_order DESC NULLS LAST, crl_sha256 DESC
        ) AS newest_rank
    FROM crl_versions
)
WHERE raw_path IS NOT NULL AND NOT entry_set_changed AND newest_rank > $keep_newest
ORDER BY version_id;
