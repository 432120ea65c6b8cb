-- Runs ending at the version before that the new version continues now end at the new version.
UPDATE crl_serial_intervals AS i
SET last_version_id = $v_version_id
WHERE i.partition_key = $partition_key AND i.last_version_id = $a_version_id
    AND i.interval_id IN (SELECT interval_id FROM crl_listed_runs);
