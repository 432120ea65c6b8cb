-- How many comments of bug $bug_id are stored.
SELECT count(*) FROM bugzilla_comments WHERE bug_id = $bug_id;
