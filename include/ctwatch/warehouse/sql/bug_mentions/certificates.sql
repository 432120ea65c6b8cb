-- The stored certificates among $der_sha256 with what else a bug may name them by: serial and
-- issuer, and the crt.sh IDs seen by $as_of (by SHA-256 where crt.sh told it, else by serial and
-- notBefore, as ingest_crtsh tells certificates apart).
WITH wanted AS (
    SELECT DISTINCT ON (der_sha256) der_sha256, serial_hex, not_before, issuer_rfc4514
    FROM certificates
    WHERE list_contains($der_sha256::VARCHAR[], der_sha256)
),
ids AS (
    SELECT w.der_sha256, i.crtsh_id
    FROM wanted AS w
    JOIN crtsh_certificate_ids AS i ON i.der_sha256 = w.der_sha256
    WHERE i.first_observed_at <= $as_of
    UNION
    SELECT w.der_sha256, i.crtsh_id
    FROM wanted AS w
    JOIN crtsh_certificate_ids AS i ON i.serial_hex = w.serial_hex AND i.not_before = w.not_before
    WHERE i.der_sha256 IS NULL AND i.first_observed_at <= $as_of
)
SELECT
    w.der_sha256,
    w.serial_hex,
    w.issuer_rfc4514,
    coalesce(list(ids.crtsh_id ORDER BY ids.crtsh_id) FILTER (WHERE ids.crtsh_id IS NOT NULL), [])
        AS crtsh_ids
FROM wanted AS w
LEFT JOIN ids ON ids.der_sha256 = w.der_sha256
GROUP BY w.der_sha256, w.serial_hex, w.issuer_rfc4514
ORDER BY w.der_sha256;
