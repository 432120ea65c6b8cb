-- The DER of the stored certificate with this SHA-256 (the issuer expected to sign a CRL).
SELECT der FROM certificates WHERE der_sha256 = $sha AND der IS NOT NULL LIMIT 1
