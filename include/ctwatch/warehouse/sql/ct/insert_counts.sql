-- Keys the warehouse had no count for yet.
INSERT INTO ct_issuer_daily_counts (log_id, issuer_spki_sha256, day, precert, entries)
SELECT b.log_id, b.issuer_spki_sha256, b.day, b.precert, b.entries
FROM ct_count_batch AS b
WHERE NOT EXISTS (
    SELECT 1 FROM ct_issuer_daily_counts AS c
    WHERE c.log_id = b.log_id
      AND c.issuer_spki_sha256 = b.issuer_spki_sha256
      AND c.day = b.day
      AND c.precert = b.precert
);
