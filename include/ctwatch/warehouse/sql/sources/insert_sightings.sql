-- A batch of sightings of one snapshot (one bound list per column, zipped by unnest).
INSERT INTO revocation_sightings (
    snapshot_id, der_sha256, issuer_spki_sha256, issuer_name_der, serial_hex, subject_spki_sha256,
    subject_name_der, status, revoked_at_claimed, reason, source_action_at, source_modified_at,
    third_party_seen_at, this_update, next_update, record_ref, detail
)
SELECT
    $snapshot_id,
    unnest($der_sha256::VARCHAR[]),
    unnest($issuer_spki_sha256::VARCHAR[]),
    unnest($issuer_name_der::BLOB[]),
    unnest($serial_hex::VARCHAR[]),
    unnest($subject_spki_sha256::VARCHAR[]),
    unnest($subject_name_der::BLOB[]),
    unnest($status::VARCHAR[]),
    unnest($revoked_at_claimed::TIMESTAMPTZ[]),
    unnest($reason::VARCHAR[]),
    unnest($source_action_at::TIMESTAMPTZ[]),
    unnest($source_modified_at::TIMESTAMPTZ[]),
    unnest($third_party_seen_at::TIMESTAMPTZ[]),
    unnest($this_update::TIMESTAMPTZ[]),
    unnest($next_update::TIMESTAMPTZ[]),
    unnest($record_ref::VARCHAR[]),
    unnest($detail::VARCHAR[]);
