-- The comments created and first observed by $as_of (a later fetch must not change an as-of's
-- answer), by bug and creation time.
SELECT comment_id, bug_id, count, creator, creation_time, is_private
FROM bugzilla_comments
WHERE creation_time <= $as_of AND first_observed_at <= $as_of
ORDER BY bug_id, creation_time, count;
