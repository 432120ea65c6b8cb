-- Open disagreements this evaluation no longer finds are resolved as of it.
UPDATE revocation_disagreements AS d
SET resolved_as_of = $as_of
WHERE d.resolved_as_of IS NULL AND d.evaluated_as_of < $as_of
    AND NOT EXISTS (
        SELECT 1
        FROM (SELECT unnest($kind::VARCHAR[]) AS kind, unnest($der_sha256::VARCHAR[]) AS der_sha256) AS f
        WHERE f.kind = d.kind AND f.der_sha256 = d.der_sha256
    );
