-- Per bug, the latest complete comment fetch at or before $as_of, and the newest comment creation
-- time known then (a complete fetch knows every comment created by its time, so both maxima
-- belong to the same, latest fetch).
SELECT bug_id, max(fetched_at) AS fetched_at, max(newest_comment_at) AS newest_comment_at
FROM bugzilla_comment_fetches
WHERE fetched_at <= $as_of AND record_errors = 0
GROUP BY bug_id
ORDER BY bug_id;
