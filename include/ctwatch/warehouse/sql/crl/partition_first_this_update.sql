-- The earliest thisUpdate of partition $key: when an undisclosed partition is first known to exist.
SELECT min(this_update) FROM crl_versions WHERE partition_key = $key;
