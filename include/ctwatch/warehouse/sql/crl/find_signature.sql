-- Versions whose signature is not known valid: invalid, or not checked (no issuer given).
SELECT partition_key, crl_sha256, this_update, signature_status, signature_detail
FROM crl_versions
WHERE signature_status <> 'valid'
ORDER BY partition_key, this_update, crl_sha256;
