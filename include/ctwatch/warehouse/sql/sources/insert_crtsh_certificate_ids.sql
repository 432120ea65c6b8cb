-- The crt.sh IDs one search or import returned: a new ID is added; one seen before keeps the
-- earlier first observation and gains what it lacked (an ID always names the same certificate).
INSERT INTO crtsh_certificate_ids (
    crtsh_id, der_sha256, serial_hex, not_before, issuer_name, first_observed_at, location
)
SELECT
    unnest($crtsh_id::BIGINT[]),
    unnest($der_sha256::VARCHAR[]),
    unnest($serial_hex::VARCHAR[]),
    unnest($not_before::TIMESTAMPTZ[]),
    unnest($issuer_name::VARCHAR[]),
    $observed_at,
    unnest($location::VARCHAR[])
ON CONFLICT (crtsh_id) DO UPDATE
SET
    der_sha256 = coalesce(crtsh_certificate_ids.der_sha256, excluded.der_sha256),
    serial_hex = coalesce(crtsh_certificate_ids.serial_hex, excluded.serial_hex),
    not_before = coalesce(crtsh_certificate_ids.not_before, excluded.not_before),
    issuer_name = coalesce(crtsh_certificate_ids.issuer_name, excluded.issuer_name),
    first_observed_at = least(crtsh_certificate_ids.first_observed_at, excluded.first_observed_at),
    location = CASE
        WHEN excluded.first_observed_at < crtsh_certificate_ids.first_observed_at THEN excluded.location
        ELSE crtsh_certificate_ids.location
    END;
