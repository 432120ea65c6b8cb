SELECT incident_id, clock_start, issuer_keys, behind_margin_points, population
FROM plan_runs
WHERE as_of = $as_of
ORDER BY incident_id;
