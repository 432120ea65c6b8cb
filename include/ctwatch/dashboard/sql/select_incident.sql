SELECT doc FROM incidents WHERE incident_id = ?;
