-- CT entries of leaves and precertificates the given issuing-CA keys issued, public by the as-of
-- (their CT timestamp); one row per entry, earliest first.
SELECT
    issuer_spki_sha256, serial, precert, not_before, not_after, log_id, entry_index, entry_timestamp
FROM ct_leaves
WHERE issuer_spki_sha256 IN (SELECT unnest($issuer_keys::VARCHAR[]))
  AND entry_timestamp <= $as_of
ORDER BY entry_timestamp, log_id, entry_index;
