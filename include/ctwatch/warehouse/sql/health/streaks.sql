-- Per source and target that ever failed by an as-of: its last success, its last failure and
-- reason, and the latest failing streak: when it began (the first failure after the success before
-- the last failure) and when it ended (the first success after the last failure; NULL: ongoing).
WITH checks AS (
    SELECT * FROM source_checks WHERE checked_at <= $as_of
),
latest AS (
    SELECT
        source,
        target,
        max(checked_at) FILTER (WHERE ok) AS last_success_at,
        max(checked_at) FILTER (WHERE NOT ok) AS last_failure_at,
        arg_max(failure, checked_at) FILTER (WHERE NOT ok) AS last_failure
    FROM checks
    GROUP BY source, target
    HAVING max(checked_at) FILTER (WHERE NOT ok) IS NOT NULL
),
success_before AS (
    SELECT l.source, l.target, max(c.checked_at) AS success_before_at
    FROM latest AS l
    JOIN checks AS c
        ON c.source = l.source AND c.target = l.target AND c.ok AND c.checked_at < l.last_failure_at
    GROUP BY l.source, l.target
)
SELECT
    l.source,
    l.target,
    l.last_success_at,
    l.last_failure_at,
    l.last_failure,
    (
        SELECT min(c.checked_at) FROM checks AS c
        WHERE c.source = l.source AND c.target = l.target AND NOT c.ok
            AND (b.success_before_at IS NULL OR c.checked_at > b.success_before_at)
    ) AS failing_since,
    (
        SELECT min(c.checked_at) FROM checks AS c
        WHERE c.source = l.source AND c.target = l.target AND c.ok AND c.checked_at > l.last_failure_at
    ) AS recovered_at
FROM latest AS l
LEFT JOIN success_before AS b ON b.source = l.source AND b.target = l.target
ORDER BY l.source, l.target
