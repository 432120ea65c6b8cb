-- Per CT log: what is covered (entries in verified ranges, and the ranges) against the largest
-- verified tree size, with the log's URL where it is followed.
WITH coverage AS (
    SELECT log_id, count(*) AS ranges, sum(end_exclusive - start_index) AS covered_entries,
        max(tree_size) AS tree_size, max(sth_timestamp) AS latest_sth_at,
        list({'start': start_index, 'end': end_exclusive} ORDER BY start_index) AS spans
    FROM ct_log_coverage
    GROUP BY log_id
)
SELECT
    coalesce(c.log_id, f.log_id) AS log_id, f.log_url, f.description, f.follow_from_index,
    c.ranges, c.covered_entries, c.tree_size, c.latest_sth_at, c.spans
FROM coverage AS c
FULL OUTER JOIN ct_log_follow AS f ON f.log_id = c.log_id
ORDER BY coalesce(f.description, c.log_id);
