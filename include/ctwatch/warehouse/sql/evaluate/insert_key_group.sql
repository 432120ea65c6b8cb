-- Record one key group of an incident of a compliance evaluation as of $as_of.
INSERT INTO compliance_key_groups (
    as_of, incident_id, spki_sha256, members, roots_listed, revoked, expired, open, late, max_delay_s,
    key_destruction_required, key_destroyed_at, key_destruction_auditor, key_destruction_link, status,
    earliest_deadline, closed_at, closure_delay_s
) VALUES (
    $as_of, $incident_id, $spki_sha256, $members, $roots_listed, $revoked, $expired, $open, $late,
    $max_delay_s, $key_destruction_required, $key_destroyed_at, $key_destruction_auditor,
    $key_destruction_link, $status, $earliest_deadline, $closed_at, $closure_delay_s
);
