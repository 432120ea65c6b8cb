-- The texts of the bugs $bug_ids that ctwatch had by $as_of, with when each was written: a bug's
-- summary as the latest search by then saw it (written at the bug's filing), and its public
-- comments created and first observed by then (comment 0 is the description). Comments stored
-- before texts were kept have none and say nothing.
WITH summaries AS (
    SELECT
        bug_id,
        arg_max(summary, observed_at) AS text,
        arg_max(creation_time, observed_at) AS written_at
    FROM bugzilla_bugs
    WHERE observed_at <= $as_of AND list_contains($bug_ids::BIGINT[], bug_id)
    GROUP BY bug_id
)
SELECT bug_id, NULL::INTEGER AS comment_count, written_at, text
FROM summaries
UNION ALL
SELECT bug_id, count, creation_time, text
FROM bugzilla_comments
WHERE list_contains($bug_ids::BIGINT[], bug_id)
    AND NOT is_private
    AND text IS NOT NULL
    AND creation_time <= $as_of
    AND first_observed_at <= $as_of
ORDER BY bug_id, written_at, comment_count NULLS FIRST;
