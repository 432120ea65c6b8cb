-- A run now ending at the new version and a run starting at the next version, same serial and
-- values: the new version joins them into one (the later run is deleted by intervals_merge_delete).
CREATE OR REPLACE TEMP TABLE crl_interval_merge AS
SELECT later.interval_id AS later_id, earlier.interval_id AS earlier_id, later.last_version_id
FROM crl_serial_intervals AS later
JOIN crl_serial_intervals AS earlier
    ON earlier.partition_key = later.partition_key
    AND earlier.serial_hex = later.serial_hex
    AND earlier.revoked_at_claimed IS NOT DISTINCT FROM later.revoked_at_claimed
    AND earlier.reason_code IS NOT DISTINCT FROM later.reason_code
    AND earlier.invalidity_date IS NOT DISTINCT FROM later.invalidity_date
WHERE later.partition_key = $partition_key
    AND later.first_version_id = $b_version_id
    AND earlier.last_version_id = $v_version_id;
