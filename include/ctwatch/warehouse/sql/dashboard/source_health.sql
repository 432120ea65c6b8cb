-- Per source and target: the last success, the last failure and its reason, as checked by $as_of.
SELECT
    source, target,
    max(checked_at) FILTER (WHERE ok) AS last_success_at,
    max(checked_at) FILTER (WHERE NOT ok) AS last_failure_at,
    arg_max(failure, checked_at) FILTER (WHERE NOT ok) AS last_failure,
    max(checked_at) AS last_checked_at
FROM source_checks
WHERE checked_at <= $as_of
GROUP BY source, target
ORDER BY source, target;
