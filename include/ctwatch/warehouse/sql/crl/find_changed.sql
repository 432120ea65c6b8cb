-- A serial whose claimed date, reason or invalidity date differs between consecutive versions.
SELECT before.partition_key, before.serial_hex,
    before.revoked_at_claimed AS old_revoked_at, after.revoked_at_claimed AS new_revoked_at,
    before.reason_code AS old_reason_code, after.reason_code AS new_reason_code,
    before.invalidity_date AS old_invalidity_date, after.invalidity_date AS new_invalidity_date,
    p.removed_this_update AS changed_this_update, v.crl_sha256 AS changed_crl_sha256
FROM crl_serial_presence AS p
JOIN crl_serial_intervals AS before ON before.interval_id = p.interval_id
JOIN crl_serial_intervals AS after
    ON after.partition_key = p.partition_key AND after.serial_hex = p.serial_hex
    AND after.first_version_id = p.removed_in_version_id
JOIN crl_versions AS v ON v.version_id = p.removed_in_version_id
ORDER BY before.partition_key, changed_this_update, before.serial_hex;
