SELECT content FROM files WHERE incident_id = ? AND name = ?;
