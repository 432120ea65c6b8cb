-- Every search sighting of every bug made by $as_of, by bug and time.
SELECT
    bug_id, observed_at, summary, status, resolution, assigned_to, creation_time, last_change_time,
    ca_owner, revocation_delay_tags
FROM bugzilla_bugs
WHERE observed_at <= $as_of
ORDER BY bug_id, observed_at;
