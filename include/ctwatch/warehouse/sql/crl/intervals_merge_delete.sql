DELETE FROM crl_serial_intervals WHERE interval_id IN (SELECT later_id FROM crl_interval_merge);
