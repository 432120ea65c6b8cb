-- ... then the original run ends at the version before ($a_version_id).
UPDATE crl_serial_intervals AS i
SET last_version_id = $a_version_id
FROM crl_versions AS f, crl_versions AS l
WHERE f.version_id = i.first_version_id AND l.version_id = i.last_version_id
    AND i.partition_key = $partition_key AND f.position < $v_position AND l.position > $v_position
    AND i.interval_id NOT IN (SELECT interval_id FROM crl_listed_runs);
