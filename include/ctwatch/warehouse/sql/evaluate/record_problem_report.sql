-- One problem report; its id is staff's reference, recording it again changes nothing.
INSERT INTO problem_reports (report_id, ca_owner, rule_id, der_sha256, sent_at, recipient, link, recorded_at)
VALUES ($report_id, $ca_owner, $rule_id, $der_sha256, $sent_at, $recipient, $link, $recorded_at)
ON CONFLICT DO NOTHING;
