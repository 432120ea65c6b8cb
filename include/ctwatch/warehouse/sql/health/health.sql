-- Source health as of an instant: per source and target, the last success, last failure and its reason.
SELECT
    source,
    target,
    max(checked_at) FILTER (WHERE ok) AS last_success_at,
    max(checked_at) FILTER (WHERE NOT ok) AS last_failure_at,
    arg_max(failure, checked_at) FILTER (WHERE NOT ok) AS last_failure
FROM source_checks
WHERE checked_at <= $as_of
GROUP BY source, target
ORDER BY source, target
