-- 0014: still_overdue is one digest per incident and period (its key ends in the period), no longer
-- one alert per certificate and week: the overdue_week column and event field go. The weekly alerts
-- already enqueued go with their delivery rows: one still due would be the flood the digest
-- replaces, and the next digest lists its certificate. Every other alert keeps its row, its event
-- JSON without the field (ctwatch.alerts.model decodes no unknown field).
DELETE FROM alert_deliveries
WHERE alert_key IN (SELECT alert_key FROM alert_outbox WHERE overdue_week IS NOT NULL);
DELETE FROM alert_outbox WHERE overdue_week IS NOT NULL;
UPDATE alert_outbox SET event_json = json_merge_patch(event_json, '{"overdue_week": null}');
ALTER TABLE alert_outbox DROP COLUMN overdue_week;
