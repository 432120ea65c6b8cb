-- One row per as-of: evaluating it again replaces the row (its outputs are replaced too).
INSERT OR REPLACE INTO compliance_runs (as_of, config_sha256, incidents, verdicts, out_of_scope)
VALUES ($as_of, $config_sha256, $incidents, $verdicts, $out_of_scope);
