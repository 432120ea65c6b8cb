-- Source disagreements about the named certificates open at the as-of.
SELECT der_sha256, kind, revoked_side, other_side, first_found_as_of
FROM revocation_disagreements
WHERE list_contains($der_sha256::VARCHAR[], der_sha256)
    AND first_found_as_of <= $as_of
    AND (resolved_as_of IS NULL OR resolved_as_of > $as_of)
ORDER BY der_sha256, kind;
