-- Problem reports sent by the as-of.
SELECT report_id, ca_owner, rule_id, der_sha256, sent_at, recipient, link
FROM problem_reports
WHERE sent_at <= $as_of
ORDER BY sent_at, report_id;
