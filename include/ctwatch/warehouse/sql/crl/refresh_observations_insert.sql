-- One observation per run of a serial: the CA's claimed date and reason, our first and last
-- observation of a version in the run, and the last observation of the version ranked just before
-- it (which did not list it) when that came earlier. Observation spans are aggregated once per
-- distinct (first, last) range: many serials share a range. The reason is its RFC 5280 name, from
-- the table the caller binds ($reason_code / $reason_name, built from CRLReason); a code the table
-- lacks is kept as its decimal text.
INSERT INTO revocation_observations (
    issuer_spki_sha256, issuer_name_der, serial_hex, source, observer, revoked_at_claimed, reason,
    first_observed_at, last_observed_at, last_observed_absent_at, evidence_sha256, evidence_ref
)
WITH ranges AS (
    SELECT DISTINCT i.partition_key, i.first_version_id, i.last_version_id, f.position AS first_position,
        l.position AS last_position
    FROM crl_serial_intervals AS i
    JOIN crl_versions AS f ON f.version_id = i.first_version_id
    JOIN crl_versions AS l ON l.version_id = i.last_version_id
    WHERE $partition_key::VARCHAR IS NULL OR i.partition_key = $partition_key
),
spans AS (
    SELECT r.partition_key, r.first_version_id, r.last_version_id, r.first_position,
        min(v.first_observed_at) AS first_observed_at, max(v.last_observed_at) AS last_observed_at
    FROM ranges AS r
    JOIN crl_versions AS v
        ON v.partition_key = r.partition_key AND v.position BETWEEN r.first_position AND r.last_position
    GROUP BY ALL
),
reason_names AS (
    SELECT unnest($reason_code::SMALLINT[]) AS reason_code, unnest($reason_name::VARCHAR[]) AS reason_name
)
SELECT
    f.issuer_spki_sha256,
    f.issuer_name_der,
    i.serial_hex,
    'crl',
    'ctwatch',
    i.revoked_at_claimed,
    coalesce(r.reason_name, CAST(i.reason_code AS VARCHAR)),
    s.first_observed_at,
    s.last_observed_at,
    CASE WHEN absent.last_observed_at < s.first_observed_at THEN absent.last_observed_at END,
    f.crl_sha256,
    f.first_url
FROM crl_serial_intervals AS i
JOIN spans AS s
    ON s.partition_key = i.partition_key
    AND s.first_version_id = i.first_version_id
    AND s.last_version_id = i.last_version_id
JOIN crl_versions AS f ON f.version_id = i.first_version_id
LEFT JOIN crl_versions AS absent ON absent.partition_key = i.partition_key AND absent.position = s.first_position - 1
LEFT JOIN reason_names AS r ON r.reason_code = i.reason_code
WHERE f.delta_base_crl_number IS NULL;
