-- (certificate, log) pairs seen for the first time.
INSERT INTO certificate_ct_sightings (
    der_sha256, log_id, entry_index, entry_timestamp, tree_size, sth_timestamp, sth_root_hash
)
SELECT b.der_sha256, b.log_id, b.entry_index, b.entry_timestamp, b.tree_size, b.sth_timestamp, b.sth_root_hash
FROM ct_sighting_batch AS b
WHERE NOT EXISTS (
    SELECT 1 FROM certificate_ct_sightings AS s WHERE s.der_sha256 = b.der_sha256 AND s.log_id = b.log_id
)
ORDER BY b.der_sha256, b.log_id;
