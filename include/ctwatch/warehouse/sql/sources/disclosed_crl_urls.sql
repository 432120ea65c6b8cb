-- Every full and partitioned CRL URL of the newest CCADB snapshot at or before $as_of (no row: none).
SELECT list_distinct(flatten(list(r.full_crl_urls || r.partitioned_crl_urls)))
FROM ccadb_records AS r
WHERE r.snapshot_id = (
    SELECT id FROM revocation_snapshots
    WHERE source = 'ccadb' AND observed_at <= $as_of
    ORDER BY observed_at DESC, id DESC
    LIMIT 1
)
HAVING count(*) > 0;
