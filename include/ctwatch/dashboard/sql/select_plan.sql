SELECT doc FROM plans WHERE incident_id = ?;
