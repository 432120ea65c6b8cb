DELETE FROM plan_runs WHERE as_of = $as_of;
