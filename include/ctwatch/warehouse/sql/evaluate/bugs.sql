-- Bugzilla bugs as the latest search by the as-of saw them.
SELECT
    bug_id,
    arg_max(summary, observed_at) AS summary,
    arg_max(ca_owner, observed_at) AS ca_owner,
    min(creation_time) AS creation_time,
    arg_max(revocation_delay_tags, observed_at) AS revocation_delay_tags
FROM bugzilla_bugs
WHERE observed_at <= $as_of
GROUP BY bug_id
ORDER BY bug_id;
