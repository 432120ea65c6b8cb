INSERT INTO plans (incident_id, doc) VALUES (?, ?);
