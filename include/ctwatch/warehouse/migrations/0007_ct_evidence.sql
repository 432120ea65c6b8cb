-- 0007: evidence of what CT ingestion refused. A tree head whose signature does not verify, a head
-- not proven consistent with the stored one, a range that does not prove against its head, or a
-- log that could not be read leaves one row saying why; nothing of it reaches coverage.
-- observed_at follows the stamping rule (docs/design.md): a simulator answer carries the as-of time it
-- represents, a live fetch the real fetch time.

CREATE TABLE ct_verification_failures (
    log_id VARCHAR NOT NULL,  -- lower-case hex RFC 6962 LogID
    observed_at TIMESTAMPTZ NOT NULL,
    kind VARCHAR NOT NULL,
    tree_size BIGINT,  -- the verified head checked against; NULL for a head whose signature failed
    previous_tree_size BIGINT,  -- consistency: the stored head the new one had to extend
    start_index BIGINT,  -- range_proof and fetch of a range: the refused entries [start, end)
    end_exclusive BIGINT,
    expected_hex VARCHAR,  -- what a verified head requires (root, or the signing key's SHA-256)
    served_hex VARCHAR,  -- what the log's data computes to (root), or the served unverified head
    detail VARCHAR NOT NULL,
    CHECK (kind IN ('tree_head_signature', 'consistency', 'range_proof', 'fetch')),
    CHECK (start_index IS NULL OR start_index < end_exclusive)
);
COMMENT ON TABLE ct_verification_failures IS
    'CT tree heads, consistency proofs and ranges that ingestion refused, with expected vs served evidence.';
