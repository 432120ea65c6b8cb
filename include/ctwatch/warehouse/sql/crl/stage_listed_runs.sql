-- The runs of partition $partition_key whose serial and values the new version lists too (its
-- staged entries), taken before the runs change: a run's values never change, and a run split off
-- by intervals_split_insert copies one the new version does not list.
CREATE OR REPLACE TEMP TABLE crl_listed_runs AS
SELECT i.interval_id
FROM crl_serial_intervals AS i
WHERE i.partition_key = $partition_key
    AND EXISTS (
        SELECT 1 FROM crl_stage_entries AS s
        WHERE s.serial_hex = i.serial_hex
            AND s.revoked_at_claimed IS NOT DISTINCT FROM i.revoked_at_claimed
            AND s.reason_code IS NOT DISTINCT FROM i.reason_code
            AND s.invalidity_date IS NOT DISTINCT FROM i.invalidity_date
    );
