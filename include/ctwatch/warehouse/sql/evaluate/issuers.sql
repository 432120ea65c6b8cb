-- For each named certificate, the stored CA certificates whose subject is its issuer (chain walk
-- for certificates CCADB does not list).
SELECT DISTINCT c.der_sha256, i.der_sha256 AS issuer_der_sha256
FROM certificates AS c
JOIN certificates AS i ON i.subject_der = c.issuer_der AND i.is_ca AND i.der_sha256 <> c.der_sha256
WHERE list_contains($der_sha256::VARCHAR[], c.der_sha256);
