-- Keep open CRL findings current (detail as of the latest evaluation), open new ones.
MERGE INTO crl_findings AS d
USING (
    SELECT
        unnest($finding_key::VARCHAR[]) AS finding_key,
        unnest($code::VARCHAR[]) AS code,
        unnest($severity::VARCHAR[]) AS severity,
        unnest($detail::VARCHAR[]) AS detail,
        unnest($partition_key::VARCHAR[]) AS partition_key,
        unnest($finding_at::TIMESTAMPTZ[]) AS finding_at,
        unnest($serial_hex::VARCHAR[]) AS serial_hex,
        unnest($crl_sha256::VARCHAR[]) AS crl_sha256
) AS f
ON d.finding_key = f.finding_key AND d.resolved_as_of IS NULL
WHEN MATCHED AND d.evaluated_as_of <= $as_of THEN UPDATE SET
    evaluated_as_of = $as_of, detail = f.detail, severity = f.severity,
    first_found_as_of = least(d.first_found_as_of, $as_of)
WHEN NOT MATCHED THEN INSERT (
    finding_key, code, severity, detail, partition_key, finding_at, serial_hex, crl_sha256, first_found_as_of,
    evaluated_as_of
) VALUES (
    f.finding_key, f.code, f.severity, f.detail, f.partition_key, f.finding_at, f.serial_hex, f.crl_sha256, $as_of,
    $as_of
);
