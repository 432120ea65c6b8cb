-- The certificates with an open rule finding that name an OCSP responder, each with the DER of every
-- stored CA certificate of its issuer's name (the caller finds the one that signed it).
SELECT c.der, c.ocsp_urls, list(i.der)
FROM certificates AS c
JOIN certificates AS i ON i.subject_der = c.issuer_der AND i.is_ca AND i.der IS NOT NULL
WHERE c.der IS NOT NULL AND len(c.ocsp_urls) > 0
    AND c.der_sha256 IN (SELECT der_sha256 FROM rule_findings WHERE resolved_as_of IS NULL)
GROUP BY c.der, c.ocsp_urls
