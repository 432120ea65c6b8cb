SELECT doc FROM plan_late_leaves WHERE incident_id = ? ORDER BY position LIMIT ?;
