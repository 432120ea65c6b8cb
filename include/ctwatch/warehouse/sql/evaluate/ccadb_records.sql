-- The records of one CCADB snapshot: owner, parent and store status of every CA certificate.
SELECT
    der_sha256, ca_owner, subordinate_ca_owner, parent_der_sha256, record_type, apple_status,
    chrome_status, microsoft_status, mozilla_status, root_status
FROM ccadb_records
WHERE snapshot_id = $snapshot_id;
