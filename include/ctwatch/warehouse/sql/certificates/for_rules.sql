-- Every stored certificate with its DER, as rule input. TIMESTAMPTZ is read as naive UTC
-- (timezone('UTC', ...)) because fetching TIMESTAMPTZ into Python needs pytz.
SELECT
    der_sha256, der, subject_rfc4514, subject_der, issuer_rfc4514, issuer_der, serial_hex,
    timezone('UTC', not_before) AS not_before_utc,
    timezone('UTC', not_after) AS not_after_utc,
    is_ca, path_length, key_usage, key_usage_present, eku_oids, eku_absent, ocsp_nocheck,
    name_constraints, ski_hex, aki_hex, spki_sha256, crl_urls, ocsp_urls, ca_issuers_urls,
    policy_oids, precert_poison, self_issued, self_signed, kind, parser, parse_warnings,
    san_dns_names, san_ip_addresses, x509_version, is_cross_certificate
FROM certificates
WHERE der IS NOT NULL
ORDER BY der_sha256;
