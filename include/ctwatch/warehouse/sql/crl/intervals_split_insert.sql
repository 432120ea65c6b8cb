-- A run that spans the new version's position but whose entry the new version lacks is cut in two:
-- first the part after it (starting at the next version $b_version_id) is inserted ...
INSERT INTO crl_serial_intervals (
    partition_key, serial_hex, revoked_at_claimed, reason_code, invalidity_date,
    first_version_id, last_version_id
)
SELECT i.partition_key, i.serial_hex, i.revoked_at_claimed, i.reason_code, i.invalidity_date,
    $b_version_id, i.last_version_id
FROM crl_serial_intervals AS i
JOIN crl_versions AS f ON f.version_id = i.first_version_id
JOIN crl_versions AS l ON l.version_id = i.last_version_id
WHERE i.partition_key = $partition_key AND f.position < $v_position AND l.position > $v_position
    AND i.interval_id NOT IN (SELECT interval_id FROM crl_listed_runs);
