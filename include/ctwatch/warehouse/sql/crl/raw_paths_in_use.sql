-- Every raw file some version still keeps.
SELECT DISTINCT raw_path FROM crl_versions WHERE raw_path IS NOT NULL;
