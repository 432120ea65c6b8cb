-- Record one incident of a compliance evaluation as of $as_of.
INSERT INTO compliance_incidents (
    as_of, incident_id, rule_id, rule_citation, declared_id, ca_owner, subordinate_ca_owners, root_stores,
    scope_basis, clock_start, clock_source, clock_source_detail, first_detected_as_of, window_kind, window_s,
    deadline, publication_allowance_s, window_citation, key_destruction_required, certificates, key_groups,
    status
) VALUES (
    $as_of, $incident_id, $rule_id, $rule_citation, $declared_id, $ca_owner, $subordinate_ca_owners,
    $root_stores, $scope_basis, $clock_start, $clock_source, $clock_source_detail, $first_detected_as_of,
    $window_kind, $window_s, $deadline, $publication_allowance_s, $window_citation,
    $key_destruction_required, $certificates, $key_groups, $status
);
