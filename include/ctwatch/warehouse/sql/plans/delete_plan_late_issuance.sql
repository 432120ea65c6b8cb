DELETE FROM plan_late_issuance WHERE as_of = $as_of;
