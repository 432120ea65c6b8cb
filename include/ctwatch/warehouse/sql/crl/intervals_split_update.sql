-- ... then the original run ends at the version before ($a_version_id).
UPDATE crl_serial_intervals AS i
SET last_version_id = $a_version_id
FROM crl_versions AS f, crl_versions AS l
WHERE f.version_id = i.first_version_id AND l.version_id = i.last_version_id
    AND i.partition_key = $partition_key AND f.position < $v_position AND l.position > $v_position
    AND NOT EXISTS (
        SELECT 1 FROM crl_stage_entries AS s
        WHERE s.serial_hex = i.serial_hex
            AND s.revoked_at_claimed IS NOT DISTINCT FROM i.revoked_at_claimed
            AND s.reason_code IS NOT DISTINCT FROM i.reason_code
            AND s.invalidity_date IS NOT DISTINCT FROM i.invalidity_date
    );
