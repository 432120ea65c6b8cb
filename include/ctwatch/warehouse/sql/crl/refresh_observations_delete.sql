-- Rows derived from the archive are rebuilt, never edited: drop those of the partitions refreshed.
DELETE FROM revocation_observations
WHERE source = 'crl' AND observer = 'ctwatch'
    AND evidence_sha256 IN (
        SELECT crl_sha256 FROM crl_versions
        WHERE $partition_key::VARCHAR IS NULL OR partition_key = $partition_key
    );
