INSERT INTO incidents (incident_id, doc) VALUES (?, ?);
