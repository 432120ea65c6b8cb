-- Every row of one CCADB AllCertificateRecords snapshot.
INSERT INTO ccadb_records (
    snapshot_id, der_sha256, salesforce_record_id, certificate_name, ca_owner, subordinate_ca_owner,
    parent_der_sha256, parent_salesforce_record_id, record_type, revocation_status, apple_status,
    chrome_status, microsoft_status, mozilla_status, root_status, trust_bits_for_root,
    derived_trust_bits, technically_constrained, valid_from, valid_to, full_crl_urls, partitioned_crl_urls
)
SELECT
    $snapshot_id,
    unnest($der_sha256::VARCHAR[]),
    unnest($salesforce_record_id::VARCHAR[]),
    unnest($certificate_name::VARCHAR[]),
    unnest($ca_owner::VARCHAR[]),
    unnest($subordinate_ca_owner::VARCHAR[]),
    unnest($parent_der_sha256::VARCHAR[]),
    unnest($parent_salesforce_record_id::VARCHAR[]),
    unnest($record_type::VARCHAR[]),
    unnest($revocation_status::VARCHAR[]),
    unnest($apple_status::VARCHAR[]),
    unnest($chrome_status::VARCHAR[]),
    unnest($microsoft_status::VARCHAR[]),
    unnest($mozilla_status::VARCHAR[]),
    unnest($root_status::VARCHAR[]),
    unnest($trust_bits_for_root::VARCHAR[]),
    unnest($derived_trust_bits::VARCHAR[]),
    unnest($technically_constrained::BOOLEAN[]),
    unnest($valid_from::DATE[]),
    unnest($valid_to::DATE[]),
    unnest($full_crl_urls::VARCHAR[][]),
    unnest($partitioned_crl_urls::VARCHAR[][]);
