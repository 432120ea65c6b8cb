-- Apply the merge plan of intervals_merge_plan: the earlier run takes the later run's end.
UPDATE crl_serial_intervals AS i
SET last_version_id = m.last_version_id
FROM crl_interval_merge AS m
WHERE i.interval_id = m.earlier_id;
