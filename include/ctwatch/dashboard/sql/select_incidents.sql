SELECT doc FROM incidents ORDER BY incident_id;
