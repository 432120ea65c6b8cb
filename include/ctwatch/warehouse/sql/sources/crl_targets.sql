-- The CRLs of watched issuers. Watched: certificates with an open rule finding. Their CDP URLs are
-- signed by their issuer (a CA certificate of that name whose key identifier the certificate names);
-- the newest CCADB snapshot (at or before $as_of) adds the full and partitioned CRL URLs it
-- discloses for those issuers (any record of the same name and key), and for the issuing CAs of
-- declared plans (keys $plan_issuer_keys, and the member keys of incidents $plan_incident_ids at
-- their latest evaluation): the CRLs listing the leaves those CAs issued, signed by the CA itself.
WITH watched AS (
    SELECT c.crl_urls, c.issuer_der, c.aki_hex
    FROM certificates AS c
    WHERE c.der_sha256 IN (SELECT der_sha256 FROM rule_findings WHERE resolved_as_of IS NULL)
),
issuers AS (
    SELECT DISTINCT w.crl_urls, i.der_sha256, i.subject_der, i.spki_sha256
    FROM watched AS w
    JOIN certificates AS i
        ON i.subject_der = w.issuer_der AND i.is_ca AND i.der IS NOT NULL
        AND (w.aki_hex IS NULL OR i.ski_hex IS NULL OR i.ski_hex = w.aki_hex)
),
plan_keys AS (
    SELECT unnest($plan_issuer_keys::VARCHAR[]) AS spki_sha256
    UNION
    SELECT v.spki_sha256
    FROM compliance_verdicts AS v
    WHERE v.incident_id IN (SELECT unnest($plan_incident_ids::VARCHAR[]))
      AND v.spki_sha256 IS NOT NULL
      AND v.as_of = (SELECT max(as_of) FROM compliance_runs WHERE as_of <= $as_of)
),
latest_ccadb AS (
    SELECT id FROM revocation_snapshots
    WHERE source = 'ccadb' AND observed_at <= $as_of
    ORDER BY observed_at DESC, id DESC
    LIMIT 1
),
named AS (
    SELECT unnest(crl_urls) AS url, der_sha256 AS issuer_der_sha256, 'cdp' AS origin FROM issuers
    UNION ALL
    SELECT unnest(r.full_crl_urls || r.partitioned_crl_urls), i.der_sha256, 'ccadb'
    FROM ccadb_records AS r
    JOIN certificates AS k ON k.der_sha256 = r.der_sha256
    JOIN issuers AS i ON i.subject_der = k.subject_der AND i.spki_sha256 = k.spki_sha256
    WHERE r.snapshot_id IN (SELECT id FROM latest_ccadb)
    UNION ALL
    SELECT unnest(r.full_crl_urls || r.partitioned_crl_urls), k.der_sha256, 'plan'
    FROM ccadb_records AS r
    JOIN certificates AS k ON k.der_sha256 = r.der_sha256
    WHERE r.snapshot_id IN (SELECT id FROM latest_ccadb)
      AND k.spki_sha256 IN (SELECT spki_sha256 FROM plan_keys)
      AND k.der IS NOT NULL
)
SELECT url, min(issuer_der_sha256) AS issuer_der_sha256, list(DISTINCT origin ORDER BY origin) AS origins
FROM named
GROUP BY url
ORDER BY url;
