-- Runs starting at the next version that the new version also lists now start at the new version.
UPDATE crl_serial_intervals AS i
SET first_version_id = $v_version_id
WHERE i.partition_key = $partition_key AND i.first_version_id = $b_version_id
    AND i.interval_id IN (SELECT interval_id FROM crl_listed_runs);
