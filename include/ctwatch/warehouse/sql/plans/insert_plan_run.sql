INSERT INTO plan_runs (as_of, incident_id, clock_start, issuer_keys, behind_margin_points, population)
VALUES ($as_of, $incident_id, $clock_start, $issuer_keys, $behind_margin_points, $population);
