-- Certificates the revocation sources disagree about, from what was observed by $as_of.
-- CRL evidence is ctwatch's own CRL archive ('crl') or crt.sh's CRL view ('crtsh').
-- A statement made at (or after) the moment a CRL was seen listing the certificate contradicts it;
-- a root-program block (OneCRL, CRLSet) without any CA channel saying revoked is a disagreement too.
WITH obs AS (
    SELECT * FROM revocation_observations_by_certificate WHERE first_observed_at <= $as_of
),
crl AS (
    -- a certificate on hold is not revoked: CCADB's "Not Revoked" and OCSP's "good" agree with it
    SELECT * FROM obs WHERE source IN ('crl', 'crtsh') AND reason IS DISTINCT FROM 'certificateHold'
),
snap_rows AS (
    SELECT s.*, snap.observed_at, snap.location, snap.content_sha256, snap.source
    FROM revocation_sightings AS s
    JOIN revocation_snapshots AS snap ON snap.id = s.snapshot_id
    WHERE snap.observed_at <= $as_of AND s.der_sha256 IS NOT NULL
),
latest_ccadb AS (
    SELECT r.der_sha256, r.revocation_status, r.salesforce_record_id, snap.observed_at, snap.location,
        snap.content_sha256
    FROM ccadb_records AS r
    JOIN revocation_snapshots AS snap ON snap.id = r.snapshot_id
    WHERE snap.observed_at <= $as_of
    QUALIFY row_number() OVER (PARTITION BY r.der_sha256 ORDER BY snap.observed_at DESC, snap.id DESC) = 1
),
latest_ocsp AS (
    SELECT * FROM snap_rows WHERE source = 'ocsp'
    QUALIFY row_number() OVER (PARTITION BY der_sha256 ORDER BY observed_at DESC, snapshot_id DESC) = 1
)
SELECT
    'crl_revoked_ccadb_not_revoked' AS kind, c.certificate_der_sha256 AS der_sha256,
    c.source AS revoked_source, c.observer AS revoked_observer, c.revoked_at_claimed, c.reason,
    c.first_observed_at, c.evidence_sha256, c.evidence_ref,
    'ccadb' AS other_source, cc.revocation_status AS other_status, cc.observed_at AS other_observed_at,
    cc.content_sha256 AS other_evidence_sha256, cc.location AS other_evidence_ref,
    cc.salesforce_record_id AS other_record_ref
FROM crl AS c
JOIN latest_ccadb AS cc ON cc.der_sha256 = c.certificate_der_sha256
WHERE cc.revocation_status = 'Not Revoked' AND cc.observed_at >= c.first_observed_at
UNION ALL
SELECT
    'ocsp_good_crl_revoked', c.certificate_der_sha256,
    c.source, c.observer, c.revoked_at_claimed, c.reason, c.first_observed_at, c.evidence_sha256,
    c.evidence_ref,
    'ocsp', o.status, o.observed_at, o.content_sha256, o.location, o.record_ref
FROM crl AS c
JOIN latest_ocsp AS o ON o.der_sha256 = c.certificate_der_sha256
WHERE o.status = 'good' AND o.observed_at >= c.first_observed_at
UNION ALL
SELECT
    m.source || '_without_ca_revocation', m.certificate_der_sha256,
    m.source, m.observer, m.revoked_at_claimed, m.reason, m.first_observed_at, m.evidence_sha256,
    m.evidence_ref,
    'crl,ocsp,crtsh', coalesce(o.status, 'no observation'), o.observed_at, o.content_sha256, o.location,
    o.record_ref
FROM obs AS m
LEFT JOIN latest_ocsp AS o ON o.der_sha256 = m.certificate_der_sha256
WHERE m.source IN ('onecrl', 'crlset')
    AND NOT EXISTS (
        SELECT 1 FROM obs AS ca
        WHERE ca.certificate_der_sha256 = m.certificate_der_sha256 AND ca.source IN ('crl', 'ocsp', 'crtsh')
            AND ca.reason IS DISTINCT FROM 'certificateHold'
    )
ORDER BY kind, der_sha256, revoked_source;
