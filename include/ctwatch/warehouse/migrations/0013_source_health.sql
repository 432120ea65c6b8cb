-- 0013: source health. Every attempt to reach a source is a check, kept with its stamp; the
-- source_health view gives, per source and target, the last success, the last failure and its reason.

CREATE TABLE source_checks (
    source VARCHAR NOT NULL,  -- 'ccadb', 'mozilla_revoked', 'onecrl', 'crlset', 'crtsh', 'bugzilla', 'crl', 'ocsp', 'ct'
    target VARCHAR NOT NULL,  -- the URL (list, CRL, OCSP responder, CT log) or the search
    checked_at TIMESTAMPTZ NOT NULL,  -- the observation stamp of the attempt
    ok BOOLEAN NOT NULL,
    failure VARCHAR,  -- why it failed, one line; NULL when ok
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,  -- wall clock of the insert, not evidence
    CHECK (ok = (failure IS NULL))
);
COMMENT ON TABLE source_checks IS
    'Each attempt to reach a revocation source or a CT log, and why it failed; never deleted.';

CREATE VIEW source_health AS
SELECT
    source,
    target,
    max(checked_at) FILTER (WHERE ok) AS last_success_at,
    max(checked_at) FILTER (WHERE NOT ok) AS last_failure_at,
    arg_max(failure, checked_at) FILTER (WHERE NOT ok) AS last_failure,
    max(checked_at) AS last_checked_at
FROM source_checks
GROUP BY source, target;
