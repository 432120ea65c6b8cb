-- The earliest attested key destruction per key, by the as-of.
SELECT
    spki_sha256,
    min(destroyed_at) AS destroyed_at,
    arg_min(auditor, destroyed_at) AS auditor,
    arg_min(link, destroyed_at) AS link
FROM key_destruction_attestations
WHERE destroyed_at <= $as_of
GROUP BY spki_sha256;
