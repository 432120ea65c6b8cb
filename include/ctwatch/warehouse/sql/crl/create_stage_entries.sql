-- The connection's stage for the entries of the CRL being archived (filled by stage_entries).
CREATE OR REPLACE TEMP TABLE crl_stage_entries (
    serial_hex VARCHAR,
    revoked_at_claimed TIMESTAMPTZ,
    reason_code SMALLINT,
    invalidity_date TIMESTAMPTZ
);
