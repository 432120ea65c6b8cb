-- Runs ending at the version before that the new version continues now end at the new version.
UPDATE crl_serial_intervals AS i
SET last_version_id = $v_version_id
WHERE i.partition_key = $partition_key AND i.last_version_id = $a_version_id
    AND EXISTS (
        SELECT 1 FROM crl_stage_entries AS s
        WHERE s.serial_hex = i.serial_hex
            AND s.revoked_at_claimed IS NOT DISTINCT FROM i.revoked_at_claimed
            AND s.reason_code IS NOT DISTINCT FROM i.reason_code
            AND s.invalidity_date IS NOT DISTINCT FROM i.invalidity_date
    );
