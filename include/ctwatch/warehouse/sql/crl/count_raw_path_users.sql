-- How many versions keep the staged file at $path as their raw file.
SELECT count(*) FROM crl_versions WHERE raw_path = $path;
