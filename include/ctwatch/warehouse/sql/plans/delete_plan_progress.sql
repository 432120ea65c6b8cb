DELETE FROM plan_progress WHERE as_of = $as_of;
