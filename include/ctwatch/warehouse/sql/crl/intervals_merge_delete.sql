-- Delete the later runs the merge plan joined into earlier ones.
DELETE FROM crl_serial_intervals WHERE interval_id IN (SELECT later_id FROM crl_interval_merge);
