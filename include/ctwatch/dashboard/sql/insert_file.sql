INSERT INTO files (incident_id, name, content) VALUES (?, ?, ?);
