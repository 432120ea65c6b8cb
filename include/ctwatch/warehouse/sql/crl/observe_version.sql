-- Widen a known version's observation span with one more fetch (arrival order does not matter).
UPDATE crl_versions
SET first_observed_at = least(first_observed_at, $observed_at),
    last_observed_at = greatest(last_observed_at, $observed_at)
WHERE version_id = $version_id;
