-- Add the batch to the counts already stored for the same (log, issuer, day, precert).
UPDATE ct_issuer_daily_counts AS c
SET entries = c.entries + b.entries
FROM ct_count_batch AS b
WHERE c.log_id = b.log_id
  AND c.issuer_spki_sha256 = b.issuer_spki_sha256
  AND c.day = b.day
  AND c.precert = b.precert;
