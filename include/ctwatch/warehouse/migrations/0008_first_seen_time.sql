-- 0008: when CT first showed each stored certificate (a certificate issued after an incident's
-- clock start counts from the earlier of its notBefore and this time). One row per (certificate, log): the entry
-- with the earliest CT timestamp whose chain carried the certificate, and the verified tree head
-- the range holding that entry was proven against. Loads keep the minimum (timestamp, then index),
-- so ranges loaded in any order, re-runs and resumed runs leave the same rows; no wall-clock column.

CREATE TABLE certificate_ct_sightings (
    der_sha256 VARCHAR NOT NULL,
    log_id VARCHAR NOT NULL,  -- lower-case hex RFC 6962 LogID
    entry_index BIGINT NOT NULL,
    entry_timestamp TIMESTAMPTZ NOT NULL,  -- CT timestamp (SCT time) of that entry
    tree_size BIGINT NOT NULL,  -- the verified head covering the entry
    sth_timestamp TIMESTAMPTZ NOT NULL,
    sth_root_hash VARCHAR NOT NULL,  -- lower-case hex
    CHECK (0 <= entry_index AND entry_index < tree_size)
);
COMMENT ON TABLE certificate_ct_sightings IS
    'Per (certificate, log): the earliest CT entry carrying it (in its chain) and the tree head covering that entry.';
