-- The earliest attested key destruction per key among the attestations recorded by the as-of (an
-- attestation counts from when it was recorded, not from the destruction date it states).
SELECT
    spki_sha256,
    min(destroyed_at) AS destroyed_at,
    arg_min(auditor, destroyed_at) AS auditor,
    arg_min(link, destroyed_at) AS link,
    arg_min(recorded_at, destroyed_at) AS recorded_at
FROM key_destruction_attestations
WHERE recorded_at <= $as_of
GROUP BY spki_sha256;
