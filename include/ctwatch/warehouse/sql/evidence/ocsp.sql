-- What ctwatch's own OCSP answers (signature checked when fetched) say about each named certificate
-- by $as_of: the first answer saying revoked (not on hold), the first saying certificateHold, and the
-- latest answer saying otherwise ('good', or on hold) before that first revocation and while the
-- certificate was valid (notAfter inclusive).
WITH cert AS (
    SELECT DISTINCT ON (der_sha256) der_sha256, not_after
    FROM certificates
    WHERE list_contains($der_sha256::VARCHAR[], der_sha256)
),
answers AS (
    SELECT
        c.der_sha256, c.not_after, s.status, s.revoked_at_claimed, s.reason, snap.observed_at,
        snap.location, snap.content_sha256,
        s.status = 'revoked' AND s.reason IS DISTINCT FROM 'certificateHold' AS revoked
    FROM cert AS c
    JOIN revocation_sightings AS s ON s.der_sha256 = c.der_sha256
    JOIN revocation_snapshots AS snap ON snap.id = s.snapshot_id
    WHERE snap.source = 'ocsp' AND snap.observer = 'ctwatch' AND snap.observed_at <= $as_of
),
firsts AS (
    SELECT der_sha256, min(observed_at) FILTER (WHERE revoked) AS first_revoked_at
    FROM answers
    GROUP BY der_sha256
)
SELECT
    a.der_sha256,
    min(a.observed_at) FILTER (WHERE a.revoked) AS revoked_first_at,
    arg_min(a.revoked_at_claimed, a.observed_at) FILTER (WHERE a.revoked) AS revoked_at_claimed,
    arg_min(a.reason, a.observed_at) FILTER (WHERE a.revoked) AS reason,
    arg_min(a.location, a.observed_at) FILTER (WHERE a.revoked) AS revoked_location,
    arg_min(a.content_sha256, a.observed_at) FILTER (WHERE a.revoked) AS revoked_sha256,
    min(a.observed_at) FILTER (WHERE a.reason = 'certificateHold') AS hold_first_at,
    arg_min(a.revoked_at_claimed, a.observed_at) FILTER (WHERE a.reason = 'certificateHold') AS hold_claimed,
    arg_min(a.location, a.observed_at) FILTER (WHERE a.reason = 'certificateHold') AS hold_location,
    max(a.observed_at) FILTER (
        WHERE (a.status = 'good' OR (a.status = 'revoked' AND NOT a.revoked))
            AND (f.first_revoked_at IS NULL OR a.observed_at < f.first_revoked_at)
            AND (a.not_after IS NULL OR a.observed_at <= a.not_after)
    ) AS last_absent_at,
    arg_max(a.location, a.observed_at) FILTER (
        WHERE (a.status = 'good' OR (a.status = 'revoked' AND NOT a.revoked))
            AND (f.first_revoked_at IS NULL OR a.observed_at < f.first_revoked_at)
            AND (a.not_after IS NULL OR a.observed_at <= a.not_after)
    ) AS last_absent_location,
    arg_max(a.content_sha256, a.observed_at) FILTER (
        WHERE (a.status = 'good' OR (a.status = 'revoked' AND NOT a.revoked))
            AND (f.first_revoked_at IS NULL OR a.observed_at < f.first_revoked_at)
            AND (a.not_after IS NULL OR a.observed_at <= a.not_after)
    ) AS last_absent_sha256,
    count(*) FILTER (WHERE a.status = 'good') AS good_answers
FROM answers AS a
JOIN firsts AS f ON f.der_sha256 = a.der_sha256
GROUP BY a.der_sha256
ORDER BY a.der_sha256;
