INSERT INTO certificates (incident_id, der_sha256, doc) VALUES (?, ?, ?);
