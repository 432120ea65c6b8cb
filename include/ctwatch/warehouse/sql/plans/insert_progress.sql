INSERT INTO plan_progress (
    as_of, incident_id, position, kind, measured_at, label, plan_announced_at, plan_source, planned_percent,
    planned_count, measured_percent, baseline, remaining, revoked, expired, state, explanation
)
VALUES (
    $as_of, $incident_id, $position, $kind, $measured_at, $label, $plan_announced_at, $plan_source, $planned_percent,
    $planned_count, $measured_percent, $baseline, $remaining, $revoked, $expired, $state, $explanation
);
