-- 0011: what a Bugzilla bug says about certificates. An automatically linked bug may start a
-- revocation clock only if it names the certificate: by SHA-256, by crt.sh ID, or by issuer and
-- serial number. Comments now keep their text, and every crt.sh ID a search or import returned is
-- kept with what tells its certificate apart, so a crt.sh ID in a bug resolves to a certificate.

-- NULL for comments fetched before this migration; comment 0 is the bug's description
ALTER TABLE bugzilla_comments ADD COLUMN text VARCHAR;

CREATE TABLE crtsh_certificate_ids (
    crtsh_id BIGINT PRIMARY KEY,
    -- when crt.sh told it: the SHA-256 column of a CSV import, or the SHA-256 of a downloaded DER
    der_sha256 VARCHAR,
    -- otherwise the certificate is the one with this serial (ParsedCert.serial_hex form) and
    -- notBefore, as ingest_crtsh tells stored certificates apart (a precertificate shares both)
    serial_hex VARCHAR,
    not_before TIMESTAMPTZ,
    issuer_name VARCHAR,  -- crt.sh's issuer_name text, as served
    first_observed_at TIMESTAMPTZ NOT NULL,  -- the earliest search or import that returned it
    location VARCHAR NOT NULL,  -- that search's URL or the imported file
    CHECK (der_sha256 IS NOT NULL OR (serial_hex IS NOT NULL AND not_before IS NOT NULL))
);
COMMENT ON TABLE crtsh_certificate_ids IS
    'crt.sh certificate IDs ctwatch saw, one row per ID with its earliest observation, to resolve IDs a bug names.';
