-- The content-order position of every version of partition $key (see rank_versions).
SELECT position, version_id FROM crl_versions WHERE partition_key = $key;
