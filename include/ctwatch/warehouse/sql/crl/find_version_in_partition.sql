-- The version of partition $key with this DER hash (the same CRL served in another encoding).
SELECT version_id FROM crl_versions WHERE partition_key = $key AND crl_sha256 = $sha;
