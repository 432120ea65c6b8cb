-- Insert the batch (one bound list per column, zipped by unnest) except certificates already
-- stored or repeated within the batch. Dedupe by anti-join: no unique index on der_sha256.
INSERT INTO certificates (
    der_sha256, der, subject_rfc4514, subject_der, issuer_rfc4514, issuer_der, serial_hex,
    not_before, not_after, is_ca, path_length, key_usage, key_usage_present, eku_oids, eku_absent,
    ocsp_nocheck, name_constraints, ski_hex, aki_hex, spki_sha256, crl_urls, ocsp_urls,
    ca_issuers_urls, policy_oids, precert_poison, self_issued, self_signed, kind, parser,
    parse_warnings, san_dns_names, san_ip_addresses, x509_version, first_seen_source
)
WITH batch AS (
    SELECT
        unnest($der_sha256::VARCHAR[]) AS der_sha256,
        unnest($der::BLOB[]) AS der,
        unnest($subject_rfc4514::VARCHAR[]) AS subject_rfc4514,
        unnest($subject_der::BLOB[]) AS subject_der,
        unnest($issuer_rfc4514::VARCHAR[]) AS issuer_rfc4514,
        unnest($issuer_der::BLOB[]) AS issuer_der,
        unnest($serial_hex::VARCHAR[]) AS serial_hex,
        unnest($not_before::TIMESTAMPTZ[]) AS not_before,
        unnest($not_after::TIMESTAMPTZ[]) AS not_after,
        unnest($is_ca::BOOLEAN[]) AS is_ca,
        unnest($path_length::INTEGER[]) AS path_length,
        unnest($key_usage::VARCHAR[][]) AS key_usage,
        unnest($key_usage_present::BOOLEAN[]) AS key_usage_present,
        unnest($eku_oids::VARCHAR[][]) AS eku_oids,
        unnest($eku_absent::BOOLEAN[]) AS eku_absent,
        unnest($ocsp_nocheck::BOOLEAN[]) AS ocsp_nocheck,
        unnest($name_constraints::BOOLEAN[]) AS name_constraints,
        unnest($ski_hex::VARCHAR[]) AS ski_hex,
        unnest($aki_hex::VARCHAR[]) AS aki_hex,
        unnest($spki_sha256::VARCHAR[]) AS spki_sha256,
        unnest($crl_urls::VARCHAR[][]) AS crl_urls,
        unnest($ocsp_urls::VARCHAR[][]) AS ocsp_urls,
        unnest($ca_issuers_urls::VARCHAR[][]) AS ca_issuers_urls,
        unnest($policy_oids::VARCHAR[][]) AS policy_oids,
        unnest($precert_poison::BOOLEAN[]) AS precert_poison,
        unnest($self_issued::BOOLEAN[]) AS self_issued,
        unnest($self_signed::BOOLEAN[]) AS self_signed,
        unnest($kind::VARCHAR[]) AS kind,
        unnest($parser::VARCHAR[]) AS parser,
        unnest($parse_warnings::VARCHAR[][]) AS parse_warnings,
        unnest($san_dns_names::VARCHAR[][]) AS san_dns_names,
        unnest($san_ip_addresses::VARCHAR[][]) AS san_ip_addresses,
        unnest($x509_version::SMALLINT[]) AS x509_version,
        $first_seen_source::VARCHAR AS first_seen_source
),
first_in_batch AS (
    SELECT * FROM batch
    QUALIFY row_number() OVER (PARTITION BY der_sha256) = 1
)
SELECT b.*
FROM first_in_batch AS b
WHERE NOT EXISTS (SELECT 1 FROM certificates AS c WHERE c.der_sha256 = b.der_sha256);
