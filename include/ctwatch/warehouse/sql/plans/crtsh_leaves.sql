-- Every row of the complete crt.sh issuer searches (no error) of the given keys made by the as-of,
-- one per (issuer key, serial): crt.sh's deduplicated view of what each CA issued.
SELECT
    s.issuer_spki_sha256,
    l.serial_hex,
    min(l.not_before) AS not_before,
    max(l.not_after) AS not_after,
    min(l.crtsh_id) AS crtsh_id,
    min(l.entry_timestamp) AS entry_timestamp
FROM crtsh_issuer_leaves AS l
JOIN crtsh_issuer_searches AS s ON s.search_id = l.search_id
WHERE s.issuer_spki_sha256 IN (SELECT unnest($issuer_keys::VARCHAR[]))
  AND s.observed_at <= $as_of
  AND s.error IS NULL
GROUP BY s.issuer_spki_sha256, l.serial_hex
ORDER BY s.issuer_spki_sha256, l.serial_hex;
