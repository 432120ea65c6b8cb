-- Per log: the covered entry ranges (index span, entries) and the UTC days, up to the as-of, the
-- entries' timestamps fall on: the window CT evidence rests on.
WITH covered AS (
    SELECT
        log_id,
        count(*) AS ranges,
        sum(end_exclusive - start_index) AS entries,
        min(start_index) AS first_index,
        max(end_exclusive) AS end_exclusive
    FROM ct_log_coverage
    GROUP BY log_id
),
days AS (
    SELECT log_id, min(day) AS first_day, max(day) AS last_day
    FROM ct_issuer_daily_counts
    WHERE day <= CAST($as_of AS DATE)
    GROUP BY log_id
)
SELECT
    c.log_id, coalesce(f.description, c.log_id) AS description, c.ranges, c.entries, c.first_index,
    c.end_exclusive, d.first_day, d.last_day
FROM covered AS c
LEFT JOIN ct_log_follow AS f ON f.log_id = c.log_id
LEFT JOIN days AS d ON d.log_id = c.log_id
ORDER BY description;
