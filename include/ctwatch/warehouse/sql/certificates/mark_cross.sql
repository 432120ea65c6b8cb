-- A cross-certificate is a CA certificate whose issuer is not in its subject's own chain, judged
-- among the CA certificates sharing one subject name and key (one "subject"):
-- * If one of them is self-issued (a root, or a root's re-key), the subject's own chain is itself:
--   every certificate of that subject from another issuer is a cross-certificate.
-- * Otherwise the originals are the certificates with the earliest notBefore (all of them on a tie;
--   every one when no notBefore is known). The subject's own chain is the issuers of the originals
--   and, upward, the issuers of the stored CA certificates named like them, up to $max_chain_levels
--   names above the subject. A certificate whose issuer is in that chain is not a cross-certificate,
--   so re-issuances by the same issuer never are.
-- A certificate without subject, key or issuer cannot be judged and is not marked.
-- Only rows whose flag changes are written.
UPDATE certificates AS c
SET is_cross_certificate = NOT c.is_cross_certificate
WHERE c.is_cross_certificate IS DISTINCT FROM (c.der_sha256 IN (
    WITH RECURSIVE
    subjects AS (
        SELECT subject_der, spki_sha256, bool_or(self_issued) AS has_self_issued,
            min(not_before) AS earliest_not_before
        FROM certificates
        WHERE is_ca AND subject_der IS NOT NULL AND spki_sha256 IS NOT NULL
        GROUP BY subject_der, spki_sha256
    ),
    original_issuers AS (
        SELECT DISTINCT o.subject_der, o.spki_sha256, o.issuer_der
        FROM certificates AS o
        JOIN subjects AS s ON s.subject_der = o.subject_der AND s.spki_sha256 = o.spki_sha256
        WHERE o.is_ca AND NOT s.has_self_issued AND o.issuer_der IS NOT NULL
          AND o.not_before IS NOT DISTINCT FROM s.earliest_not_before
    ),
    -- walked once per distinct starting issuer name, shared by every subject it issued
    ancestors (start_der, issuer_der, level) AS (
        SELECT DISTINCT issuer_der, issuer_der, 1 FROM original_issuers
        UNION
        SELECT a.start_der, up.issuer_der, a.level + 1
        FROM ancestors AS a
        JOIN certificates AS up ON up.subject_der = a.issuer_der
        WHERE a.level < $max_chain_levels
          AND up.is_ca AND NOT up.self_issued AND up.issuer_der IS NOT NULL
    ),
    own_chains AS (
        SELECT DISTINCT o.subject_der, o.spki_sha256, a.issuer_der
        FROM original_issuers AS o
        JOIN ancestors AS a ON a.start_der = o.issuer_der
    )
    SELECT x.der_sha256
    FROM certificates AS x
    JOIN subjects AS s ON s.subject_der = x.subject_der AND s.spki_sha256 = x.spki_sha256
    WHERE x.is_ca AND NOT x.self_issued AND x.issuer_der IS NOT NULL
      AND (
          s.has_self_issued
          OR NOT EXISTS (
              SELECT 1
              FROM own_chains AS own
              WHERE own.subject_der = x.subject_der
                AND own.spki_sha256 = x.spki_sha256
                AND own.issuer_der = x.issuer_der
          )
      )
));
