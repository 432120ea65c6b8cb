SELECT
    incident_id, stop_issuance, issuer_spki_sha256, serial_hex, not_before, not_after, log_id, entry_index,
    entry_timestamp, crtsh_id
FROM plan_late_issuance
WHERE as_of = $as_of
ORDER BY incident_id, not_before, serial_hex;
