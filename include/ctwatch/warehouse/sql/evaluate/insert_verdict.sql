-- Record one certificate's verdict in an incident of a compliance evaluation as of $as_of.
INSERT INTO compliance_verdicts (
    as_of, incident_id, der_sha256, precert_der_sha256, spki_sha256, has_finding, kind, ca_owner,
    subordinate_ca_owner, subject, issuer, serial_hex, not_before, not_after, dns_names, first_ct_at,
    first_ct_basis, deadline, deadline_basis, planned_revocation_at, status, delay_s, basis,
    revoked_at_claimed, revocation_reason, first_observed_revoked_at, bounds, arithmetic, evidence,
    publish_by, delay_max_s, basis_text, last_observed_absent_at, findings, root_program_actions
) VALUES (
    $as_of, $incident_id, $der_sha256, $precert_der_sha256, $spki_sha256, $has_finding, $kind, $ca_owner,
    $subordinate_ca_owner, $subject, $issuer, $serial_hex, $not_before, $not_after, $dns_names, $first_ct_at,
    $first_ct_basis, $deadline, $deadline_basis, $planned_revocation_at, $status, $delay_s, $basis,
    $revoked_at_claimed, $revocation_reason, $first_observed_revoked_at, $bounds, $arithmetic, $evidence,
    $publish_by, $delay_max_s, $basis_text, $last_observed_absent_at, $findings, $root_program_actions
);
