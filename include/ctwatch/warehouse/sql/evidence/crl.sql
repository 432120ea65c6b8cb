-- What ctwatch's own CRL fetches say about each named certificate: one row per (certificate,
-- covering CRL version fetched by $as_of). A version covers a certificate when it is a full (not
-- delta) CRL of the certificate's issuer name whose signature verified with the key of a CA
-- certificate of that name (and of the key identifier the certificate names), and either carries no
-- Issuing Distribution Point (a complete CRL) or its IDP names one of the certificate's CRL
-- distribution point URLs without restricting reasons, the certificate type or indirection.
-- `revoked_at_claimed` / `reason_code` are set when the version lists the serial. Fetch times are
-- aggregated per version; `last_absent_fetch_at` is the latest fetch of a version that does not list
-- the serial (or lists it on hold) made before the first fetch listing it as revoked and while the
-- certificate was valid (notAfter inclusive): the latest moment ctwatch saw the CA not publishing.
WITH cert AS (
    SELECT DISTINCT ON (der_sha256) der_sha256, issuer_der, serial_hex, crl_urls, is_ca, aki_hex, not_after
    FROM certificates
    WHERE list_contains($der_sha256::VARCHAR[], der_sha256)
),
issuer_key AS (
    SELECT DISTINCT c.der_sha256, i.spki_sha256
    FROM cert AS c
    JOIN certificates AS i
        ON i.subject_der = c.issuer_der AND i.is_ca AND i.spki_sha256 IS NOT NULL
        AND (c.aki_hex IS NULL OR i.ski_hex IS NULL OR i.ski_hex = c.aki_hex)
),
covering AS (
    SELECT c.der_sha256, c.serial_hex, c.not_after, v.version_id, v.partition_key, v.position, v.crl_sha256,
        v.this_update, v.first_url
    FROM cert AS c
    JOIN crl_versions AS v ON v.issuer_name_der = c.issuer_der
    WHERE v.signature_status = 'valid'
        AND v.delta_base_crl_number IS NULL
        AND v.issuer_spki_sha256 IN (SELECT k.spki_sha256 FROM issuer_key AS k WHERE k.der_sha256 = c.der_sha256)
        AND (
            v.idp_scope IS NULL
            OR (
                list_has_any(v.idp_uris, c.crl_urls)
                AND v.idp_scope LIKE '%;reasons=all;indirect=0;attr=0'
                AND NOT (c.is_ca AND v.idp_scope LIKE '%;user=1;%')
                AND NOT (NOT c.is_ca AND v.idp_scope LIKE '%;ca=1;%')
            )
        )
),
listed AS (
    SELECT cv.*, run.revoked_at_claimed, run.reason_code
    FROM covering AS cv
    LEFT JOIN (
        SELECT i.partition_key, i.serial_hex, i.revoked_at_claimed, i.reason_code, f.position AS first_position,
            l.position AS last_position
        FROM crl_serial_intervals AS i
        JOIN crl_versions AS f ON f.version_id = i.first_version_id
        JOIN crl_versions AS l ON l.version_id = i.last_version_id
    ) AS run
        ON run.partition_key = cv.partition_key AND run.serial_hex = cv.serial_hex
        AND cv.position BETWEEN run.first_position AND run.last_position
),
fetched AS (
    SELECT
        l.*,
        f.observed_at,
        l.revoked_at_claimed IS NOT NULL AND l.reason_code IS DISTINCT FROM 6 AS revoked,
        min(CASE WHEN l.revoked_at_claimed IS NOT NULL AND l.reason_code IS DISTINCT FROM 6 THEN f.observed_at END)
            OVER (PARTITION BY l.der_sha256) AS first_revoked_at
    FROM listed AS l
    JOIN crl_fetches AS f ON f.version_id = l.version_id
    WHERE f.observed_at <= $as_of
)
SELECT
    der_sha256, version_id, crl_sha256, this_update, first_url, revoked_at_claimed, reason_code,
    count(*) AS fetches,
    min(observed_at) AS first_fetch_at,
    max(observed_at) AS last_fetch_at,
    max(observed_at) FILTER (
        WHERE NOT revoked AND (first_revoked_at IS NULL OR observed_at < first_revoked_at)
            AND (not_after IS NULL OR observed_at <= not_after)
    ) AS last_absent_fetch_at
FROM fetched
GROUP BY ALL
ORDER BY der_sha256, first_fetch_at, version_id;
