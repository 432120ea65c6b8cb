-- 0003: CT ingestion: verified tree heads, where each log is followed from, leaf
-- metadata of watched issuers, and per-issuer daily counts for every leaf.
-- Leaf and count rows carry no wall-clock column: re-ingesting a range gives identical rows.
-- Exactly-once comes from ct_log_coverage (rows and coverage commit in one transaction), not
-- from indexes: no unique index on hashes (see 0001).

CREATE TABLE ct_tree_heads (
    log_id VARCHAR NOT NULL,  -- lower-case hex RFC 6962 LogID
    tree_size BIGINT NOT NULL,
    sth_timestamp TIMESTAMPTZ NOT NULL,
    root_hash VARCHAR NOT NULL,  -- lower-case hex
    signature BLOB NOT NULL,  -- TLS DigitallySigned of the STH, or the whole signed checkpoint note
    signature_format VARCHAR NOT NULL,
    CHECK (signature_format IN ('rfc6962_sth', 'checkpoint')),
    CHECK (tree_size >= 0)
);
COMMENT ON TABLE ct_tree_heads IS
    'Verified signed tree heads (and checkpoints) that covered ranges are tied to; one row per (log, size, root).';

CREATE TABLE ct_log_follow (
    log_id VARCHAR PRIMARY KEY,
    follow_from_index BIGINT NOT NULL,  -- live monitoring covers [follow_from_index, head)
    first_tree_size BIGINT NOT NULL,  -- size of the verified head seen when following started
    first_sth_timestamp TIMESTAMPTZ NOT NULL,
    log_url VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    CHECK (0 <= follow_from_index AND follow_from_index <= first_tree_size)
);
COMMENT ON TABLE ct_log_follow IS
    'Where live monitoring of each log starts: its head on the first run (older entries only by backfill).';

CREATE TABLE ct_leaves (
    log_id VARCHAR NOT NULL,
    entry_index BIGINT NOT NULL,
    entry_timestamp TIMESTAMPTZ NOT NULL,  -- the CT timestamp (SCT time) of the entry
    leaf_hash BLOB NOT NULL,  -- RFC 6962 Merkle leaf hash, 32 bytes
    precert BOOLEAN NOT NULL,
    issuer_spki_sha256 VARCHAR NOT NULL,  -- issuer_key_hash of a precert, else SPKI hash of chain[0]
    serial BLOB,  -- INTEGER content octets; NULL when the leaf DER could not be walked
    not_before TIMESTAMPTZ,
    not_after TIMESTAMPTZ
);
COMMENT ON TABLE ct_leaves IS
    'Leaf entries of watched issuers: what compliance needs (issuer key, serial, validity, log position).';

CREATE VIEW ct_leaves_hex AS
SELECT
    log_id, entry_index, entry_timestamp, lower(hex(leaf_hash)) AS leaf_hash_hex, precert,
    issuer_spki_sha256, lower(hex(serial)) AS serial_hex, not_before, not_after
FROM ct_leaves;
COMMENT ON VIEW ct_leaves_hex IS 'ct_leaves with hashes and serials as lower-case hex, to join the other tables.';

CREATE TABLE ct_issuer_daily_counts (
    log_id VARCHAR NOT NULL,
    issuer_spki_sha256 VARCHAR NOT NULL,  -- '' when the issuer could not be told (empty chain)
    day DATE NOT NULL,  -- UTC day of the entry timestamp
    precert BOOLEAN NOT NULL,
    entries BIGINT NOT NULL,
    CHECK (entries > 0)
);
COMMENT ON TABLE ct_issuer_daily_counts IS
    'Entries per (log, issuer key, UTC day, precert) over the covered ranges, watched or not.';

CREATE TABLE ct_entry_errors (
    log_id VARCHAR NOT NULL,
    entry_index BIGINT NOT NULL,
    leaf_hash BLOB,
    error VARCHAR NOT NULL
);
COMMENT ON TABLE ct_entry_errors IS
    'Entries of covered ranges whose content could not be decoded (their leaf hash still verified).';
