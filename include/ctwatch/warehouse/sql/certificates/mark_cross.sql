-- A cross-certificate: a CA certificate whose subject name and key also appear in another CA
-- certificate from a different issuer. Self-issued certificates (roots, key rollovers) are the
-- CA's own certificate, never a cross-certificate. Only rows whose flag changes are written.
UPDATE certificates AS c
SET is_cross_certificate = NOT c.is_cross_certificate
WHERE c.is_cross_certificate IS DISTINCT FROM (
    c.is_ca
    AND NOT c.self_issued
    AND EXISTS (
        SELECT 1
        FROM certificates AS other
        WHERE other.is_ca
          AND other.subject_der = c.subject_der
          AND other.spki_sha256 = c.spki_sha256
          AND other.issuer_der <> c.issuer_der
    )
);
