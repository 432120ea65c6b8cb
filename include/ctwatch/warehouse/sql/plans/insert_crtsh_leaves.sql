INSERT INTO crtsh_issuer_leaves (search_id, crtsh_id, serial_hex, not_before, not_after, entry_timestamp)
VALUES ($search_id, $crtsh_id, $serial_hex, $not_before, $not_after, $entry_timestamp);
