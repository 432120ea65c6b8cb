-- Rebuild the revocation_observations of one source from all its sightings (run after deleting
-- that source's rows). Order-independent: snapshots imported late (backfills) land in place.
--   first_observed_at: the earliest time a sighting proves the observer listed it as revoked —
--     OneCRL: Mozilla's own action time (details.created / last_modified) when earlier than our fetch;
--     crt.sh: its LAST_SEEN_CHECK_DATE (crt.sh keeps no first-seen time); otherwise the snapshot time.
--   last_observed_absent_at: the latest earlier snapshot that said otherwise (an OCSP 'good', a
--     CCADB 'Not Revoked') or that was a full list without it.
INSERT INTO revocation_observations (
    der_sha256, issuer_spki_sha256, issuer_name_der, serial_hex, subject_spki_sha256, subject_name_der,
    source, observer, revoked_at_claimed, reason, first_observed_at, last_observed_at,
    last_observed_absent_at, evidence_sha256, evidence_ref
)
WITH sighted AS (
    SELECT
        s.*,
        snap.source,
        snap.observer,
        snap.observed_at,
        snap.content_sha256,
        snap.location,
        -- least() skips NULLs: without an action time it is the snapshot time
        CASE
            WHEN s.third_party_seen_at IS NOT NULL THEN least(s.third_party_seen_at, snap.observed_at)
            ELSE least(s.source_action_at, s.source_modified_at, snap.observed_at)
        END AS seen_from,
        coalesce(s.third_party_seen_at, snap.observed_at) AS seen_until
    FROM revocation_sightings AS s
    JOIN revocation_snapshots AS snap ON snap.id = s.snapshot_id
    WHERE snap.source = $source
),
revoked AS (
    SELECT
        observer, der_sha256, issuer_spki_sha256, issuer_name_der, serial_hex, subject_spki_sha256,
        subject_name_der,
        arg_min(revoked_at_claimed, seen_from) FILTER (WHERE revoked_at_claimed IS NOT NULL) AS revoked_at_claimed,
        arg_min(reason, seen_from) FILTER (WHERE reason IS NOT NULL) AS reason,
        min(seen_from) AS first_observed_at,
        greatest(max(seen_until), min(seen_from)) AS last_observed_at,
        arg_min(content_sha256, seen_from) AS evidence_sha256,
        arg_min(location, seen_from) AS evidence_ref
    FROM sighted
    WHERE status = 'revoked'
    GROUP BY ALL
)
SELECT
    r.der_sha256, r.issuer_spki_sha256, r.issuer_name_der, r.serial_hex, r.subject_spki_sha256,
    r.subject_name_der, $source, r.observer, r.revoked_at_claimed, r.reason, r.first_observed_at,
    r.last_observed_at,
    greatest(
        (
            SELECT max(n.observed_at) FROM sighted AS n
            WHERE n.status <> 'revoked' AND n.observed_at < r.first_observed_at
                AND n.observer = r.observer
                AND n.der_sha256 IS NOT DISTINCT FROM r.der_sha256
                AND n.issuer_spki_sha256 IS NOT DISTINCT FROM r.issuer_spki_sha256
                AND n.issuer_name_der IS NOT DISTINCT FROM r.issuer_name_der
                AND n.serial_hex IS NOT DISTINCT FROM r.serial_hex
                AND n.subject_spki_sha256 IS NOT DISTINCT FROM r.subject_spki_sha256
                AND n.subject_name_der IS NOT DISTINCT FROM r.subject_name_der
        ),
        (
            SELECT max(snap.observed_at) FROM revocation_snapshots AS snap
            WHERE snap.source = $source AND snap.observer = r.observer AND snap.lists_all_revoked
                AND snap.observed_at < r.first_observed_at
        )
    ),
    r.evidence_sha256, r.evidence_ref
FROM revoked AS r;
