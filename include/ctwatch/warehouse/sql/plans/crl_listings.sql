-- Serials listed by the CRLs of the given issuing-CA keys (versions whose signature verified with
-- that key and which ctwatch observed by the as-of): per serial the thisUpdate of the earliest
-- version listing it, and that version's URL.
SELECT
    v.issuer_spki_sha256,
    i.serial_hex,
    min(v.this_update) AS listed_from,
    arg_min(v.first_url, v.this_update) AS url
FROM crl_serial_intervals AS i
JOIN crl_versions AS v ON v.version_id = i.first_version_id
WHERE v.issuer_spki_sha256 IN (SELECT unnest($issuer_keys::VARCHAR[]))
  AND v.signature_status = 'valid'
  AND v.first_observed_at <= $as_of
GROUP BY v.issuer_spki_sha256, i.serial_hex;
