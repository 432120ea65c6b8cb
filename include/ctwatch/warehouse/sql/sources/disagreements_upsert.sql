-- Keep open disagreements current (evidence as of the latest evaluation), open new ones.
MERGE INTO revocation_disagreements AS d
USING (
    SELECT
        unnest($kind::VARCHAR[]) AS kind,
        unnest($der_sha256::VARCHAR[]) AS der_sha256,
        unnest($revoked_side::VARCHAR[]) AS revoked_side,
        unnest($other_side::VARCHAR[]) AS other_side
) AS f
ON d.kind = f.kind AND d.der_sha256 = f.der_sha256 AND d.resolved_as_of IS NULL
WHEN MATCHED AND d.evaluated_as_of <= $as_of THEN UPDATE SET
    evaluated_as_of = $as_of, revoked_side = f.revoked_side, other_side = f.other_side,
    first_found_as_of = least(d.first_found_as_of, $as_of)
WHEN NOT MATCHED THEN INSERT (kind, der_sha256, revoked_side, other_side, first_found_as_of, evaluated_as_of)
    VALUES (f.kind, f.der_sha256, f.revoked_side, f.other_side, $as_of, $as_of);
