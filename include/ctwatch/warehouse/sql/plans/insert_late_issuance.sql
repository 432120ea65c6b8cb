INSERT INTO plan_late_issuance (
    as_of, incident_id, stop_issuance, issuer_spki_sha256, serial_hex, not_before, not_after, log_id,
    entry_index, entry_timestamp, crtsh_id
)
VALUES (
    $as_of, $incident_id, $stop_issuance, $issuer_spki_sha256, $serial_hex, $not_before, $not_after, $log_id,
    $entry_index, $entry_timestamp, $crtsh_id
);
