-- Append a batch of parsed entries (one bound list per column) to the connection's stage table.
INSERT INTO crl_stage_entries
SELECT
    unnest($serial_hex::VARCHAR[]),
    unnest($revoked_at_claimed::TIMESTAMPTZ[]),
    unnest($reason_code::SMALLINT[]),
    unnest($invalidity_date::TIMESTAMPTZ[]);
