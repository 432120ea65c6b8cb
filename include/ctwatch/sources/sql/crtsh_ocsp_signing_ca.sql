-- crt.sh public PostgreSQL (psql -h crt.sh -p 5432 -U guest certwatch): CA certificates carrying
-- id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9) without id-pkix-ocsp-nocheck (1.3.6.1.5.5.7.48.1.5), with
-- their CRL revocation as crt.sh saw it and crt.sh's last check times.
-- Runs on crt.sh only (libx509pq functions). Export for ctwatch.sources.crtsh.parse_ocsp_signing_ca_csv:
--   \copy (<this query without the trailing semicolon>) TO 'ocsp_signing_ca.csv' WITH (FORMAT csv, HEADER)
-- x509_extKeyUsages(cert, TRUE) lists EKU OIDs; x509_isEKUPermitted is NOT a presence test.
-- crl_revoked keeps no first-seen time: LAST_SEEN_CHECK_DATE is the latest check that still listed
-- the serial (it stops advancing when the entry drops off the CRL).
SELECT
    c.ID AS crtsh_id,
    cac.CA_ID AS ca_id,
    c.ISSUER_CA_ID AS issuer_ca_id,
    x509_subjectName(c.CERTIFICATE) AS subject,
    x509_notBefore(c.CERTIFICATE) AS not_before,
    x509_notAfter(c.CERTIFICATE) AS not_after,
    encode(x509_serialNumber(c.CERTIFICATE), 'hex') AS serial_hex,
    encode(digest(c.CERTIFICATE, 'sha256'), 'hex') AS sha256,
    encode(digest(x509_publicKey(issuer.CERTIFICATE), 'sha256'), 'hex') AS issuer_spki_sha256,
    cr.REVOCATION_DATE AS revocation_date,
    cr.REASON_CODE AS reason_code,
    cr.LAST_SEEN_CHECK_DATE AS last_seen_check_date,
    (SELECT max(crl.LAST_CHECKED) FROM crl WHERE crl.CA_ID = c.ISSUER_CA_ID) AS crl_last_checked
FROM ca_certificate AS cac
JOIN certificate AS c ON c.ID = cac.CERTIFICATE_ID
LEFT JOIN LATERAL (
    SELECT ic.CERTIFICATE
    FROM ca_certificate AS icac
    JOIN certificate AS ic ON ic.ID = icac.CERTIFICATE_ID
    WHERE icac.CA_ID = c.ISSUER_CA_ID
    LIMIT 1
) AS issuer ON TRUE
LEFT JOIN crl_revoked AS cr
    ON cr.CA_ID = c.ISSUER_CA_ID AND cr.SERIAL_NUMBER = x509_serialNumber(c.CERTIFICATE)
WHERE x509_canIssueCerts(c.CERTIFICATE)
    AND '1.3.6.1.5.5.7.3.9' IN (SELECT x509_extKeyUsages(c.CERTIFICATE, TRUE))
    AND NOT x509_hasExtension(c.CERTIFICATE, '1.3.6.1.5.5.7.48.1.5')
ORDER BY c.ID;
