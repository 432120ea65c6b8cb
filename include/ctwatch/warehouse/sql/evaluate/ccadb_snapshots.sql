-- CCADB AllCertificateRecords snapshots with records, observed by the as-of, oldest first.
SELECT s.id, s.observed_at
FROM revocation_snapshots AS s
WHERE s.source = 'ccadb' AND s.observed_at <= $as_of
    AND EXISTS (SELECT 1 FROM ccadb_records AS r WHERE r.snapshot_id = s.id)
ORDER BY s.observed_at, s.id;
