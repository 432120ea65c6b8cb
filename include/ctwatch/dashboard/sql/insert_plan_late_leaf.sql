INSERT INTO plan_late_leaves (incident_id, position, doc) VALUES (?, ?, ?);
