SELECT name FROM files WHERE incident_id = ?;
