-- A serial first listed after a version of the same partition that lacked it, while its claimed
-- revocationDate is more than the publication window before that version's thisUpdate. A run that
-- only changes the values of a serial listed just before is a change, not a new revocation.
SELECT p.partition_key, p.serial_hex, p.revoked_at_claimed, p.reason_code, p.absent_this_update,
    p.first_this_update, absent.crl_sha256 AS absent_crl_sha256, f.crl_sha256 AS first_crl_sha256
FROM crl_serial_presence AS p
JOIN crl_versions AS absent ON absent.version_id = p.absent_version_id
JOIN crl_versions AS f ON f.version_id = p.first_version_id
WHERE f.delta_base_crl_number IS NULL
    AND p.revoked_at_claimed + $publication_window < p.absent_this_update
    AND NOT EXISTS (
        SELECT 1 FROM crl_serial_intervals AS earlier
        WHERE earlier.partition_key = p.partition_key AND earlier.serial_hex = p.serial_hex
            AND earlier.last_version_id = p.absent_version_id
    )
ORDER BY p.partition_key, p.absent_this_update, p.serial_hex;
