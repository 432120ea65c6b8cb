-- Problem reports recorded by the as-of (a report counts from when ctwatch recorded it, so a replay
-- never uses one staff entered later).
SELECT report_id, ca_owner, rule_id, der_sha256, sent_at, recipient, link, recorded_at
FROM problem_reports
WHERE recorded_at <= $as_of
ORDER BY sent_at, report_id;
