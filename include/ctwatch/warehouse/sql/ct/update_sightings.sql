-- A sighting earlier than the stored one of the same (certificate, log) replaces it: ranges can be
-- loaded out of order (backfills), and CT timestamps are not monotonic in the index.
UPDATE certificate_ct_sightings AS s
SET entry_index = b.entry_index, entry_timestamp = b.entry_timestamp, tree_size = b.tree_size,
    sth_timestamp = b.sth_timestamp, sth_root_hash = b.sth_root_hash
FROM ct_sighting_batch AS b
WHERE s.der_sha256 = b.der_sha256
  AND s.log_id = b.log_id
  AND (b.entry_timestamp < s.entry_timestamp
       OR (b.entry_timestamp = s.entry_timestamp AND b.entry_index < s.entry_index));
