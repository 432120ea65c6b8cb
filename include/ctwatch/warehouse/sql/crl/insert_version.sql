-- Add a new version of a partition (ranked later by rank_versions); its id.
INSERT INTO crl_versions (
    partition_key, crl_sha256, body_sha256, first_url, issuer_name_der, issuer_rfc4514,
    issuer_spki_sha256, this_update, next_update, crl_number, crl_number_order, delta_base_crl_number,
    idp_scope, idp_uris, size_bytes, entry_count, entry_set_digest, signature_status, signature_detail,
    position, entry_set_changed, raw_path, first_observed_at, last_observed_at
)
VALUES (
    $partition_key, $crl_sha256, $body_sha256, $url, $issuer_name_der, $issuer_rfc4514,
    $issuer_spki_sha256, $this_update, $next_update, $crl_number, $crl_number_order,
    $delta_base_crl_number, $idp_scope, $idp_uris, $size_bytes, $entry_count, $entry_set_digest,
    $signature_status, $signature_detail, 0, true, $raw_path, $observed_at, $observed_at
)
RETURNING version_id;
