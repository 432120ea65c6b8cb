-- Source disagreements open at $as_of, every certificate.
SELECT der_sha256, kind, first_found_as_of
FROM revocation_disagreements
WHERE first_found_as_of <= $as_of AND (resolved_as_of IS NULL OR resolved_as_of > $as_of)
ORDER BY der_sha256, kind;
