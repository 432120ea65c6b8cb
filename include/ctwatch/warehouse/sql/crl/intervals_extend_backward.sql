-- Runs starting at the next version that the new version also lists now start at the new version.
UPDATE crl_serial_intervals AS i
SET first_version_id = $v_version_id
WHERE i.partition_key = $partition_key AND i.first_version_id = $b_version_id
    AND EXISTS (
        SELECT 1 FROM crl_stage_entries AS s
        WHERE s.serial_hex = i.serial_hex
            AND s.revoked_at_claimed IS NOT DISTINCT FROM i.revoked_at_claimed
            AND s.reason_code IS NOT DISTINCT FROM i.reason_code
            AND s.invalidity_date IS NOT DISTINCT FROM i.invalidity_date
    );
