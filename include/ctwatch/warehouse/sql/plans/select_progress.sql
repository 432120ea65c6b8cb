SELECT
    incident_id, kind, measured_at, label, plan_announced_at, plan_source, planned_percent, planned_count,
    measured_percent, baseline, remaining, revoked, expired, state, explanation
FROM plan_progress
WHERE as_of = $as_of
ORDER BY incident_id, position;
