-- 0001: the base evidence model (docs/design.md, "The evidence model").
-- Hashes are lower-case hex VARCHAR, DER is BLOB, times are TIMESTAMPTZ (UTC).
-- No unique index on hashes: DuckDB ART indexes are slow and memory-hungry at CT scale, so the
-- load SQL deduplicates (anti-join) instead. Primary keys only on small tables.

CREATE TABLE certificates (
    der_sha256 VARCHAR NOT NULL,
    der BLOB,  -- always kept for CA certificates; leaf rows may keep metadata only
    subject_rfc4514 VARCHAR,
    subject_der BLOB,
    issuer_rfc4514 VARCHAR,
    issuer_der BLOB,
    serial_hex VARCHAR,
    not_before TIMESTAMPTZ,
    not_after TIMESTAMPTZ,
    is_ca BOOLEAN NOT NULL,
    path_length INTEGER,
    key_usage VARCHAR[] NOT NULL,  -- cryptography attribute names, sorted
    key_usage_present BOOLEAN NOT NULL,
    eku_oids VARCHAR[] NOT NULL,
    eku_absent BOOLEAN NOT NULL,
    ocsp_nocheck BOOLEAN NOT NULL,
    name_constraints BOOLEAN NOT NULL,
    ski_hex VARCHAR,
    aki_hex VARCHAR,
    spki_sha256 VARCHAR,
    crl_urls VARCHAR[] NOT NULL,
    ocsp_urls VARCHAR[] NOT NULL,
    ca_issuers_urls VARCHAR[] NOT NULL,
    policy_oids VARCHAR[] NOT NULL,
    precert_poison BOOLEAN NOT NULL,
    self_issued BOOLEAN NOT NULL,
    self_signed BOOLEAN,  -- NULL: the signature could not be checked
    kind VARCHAR NOT NULL,  -- ctwatch.x509.CertKind value
    parser VARCHAR NOT NULL,  -- 'cryptography' or 'pyasn1'
    parse_warnings VARCHAR[] NOT NULL,
    san_dns_names VARCHAR[] NOT NULL,
    san_ip_addresses VARCHAR[] NOT NULL,
    x509_version SMALLINT,  -- 1..3; NULL when the version field held no valid value
    first_seen_source VARCHAR NOT NULL,  -- 'ct:<log_id>:<index>', 'file:<path>', 'ccadb', 'crtsh'
    stored_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,  -- wall clock of the insert, not evidence
    is_cross_certificate BOOLEAN NOT NULL DEFAULT false  -- derived: see sql/certificates/mark_cross.sql
);
COMMENT ON TABLE certificates IS
    'One row per distinct certificate (by der_sha256, deduplicated on load): the fields of ctwatch.x509.ParsedCert plus where it was first seen.';

-- A key group is every certificate sharing one public key: re-issuances and cross-signs
-- of one CA are revoked (and judged) together.
CREATE VIEW key_groups AS
SELECT
    spki_sha256,
    list(der_sha256 ORDER BY not_before, der_sha256) AS member_der_sha256,
    count(*) AS member_count,
    min(not_before) AS earliest_not_before,
    list(DISTINCT subject_rfc4514 ORDER BY subject_rfc4514) FILTER (WHERE subject_rfc4514 IS NOT NULL)
        AS subject_names
FROM certificates
WHERE spki_sha256 IS NOT NULL
GROUP BY spki_sha256;
COMMENT ON VIEW key_groups IS 'Certificates grouped by public key (spki_sha256).';

CREATE TABLE cert_parse_errors (
    input_sha256 VARCHAR NOT NULL,
    input_length BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    error VARCHAR NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
COMMENT ON TABLE cert_parse_errors IS
    'Input that is no certificate: recorded with its reason, never dropped (one row per input, source and error).';

CREATE TABLE rule_findings (
    der_sha256 VARCHAR NOT NULL,
    rule_id VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,
    first_found_as_of TIMESTAMPTZ NOT NULL,
    evaluated_as_of TIMESTAMPTZ NOT NULL,  -- latest evaluation that found it
    resolved_as_of TIMESTAMPTZ,  -- first later evaluation that no longer found it; NULL while open
    CHECK (first_found_as_of <= evaluated_as_of),
    CHECK (resolved_as_of IS NULL OR resolved_as_of > evaluated_as_of)
);
COMMENT ON TABLE rule_findings IS
    'One row per (certificate, rule) ever broken; closed with resolved_as_of when a later evaluation no longer finds it, never deleted.';

CREATE TABLE ct_log_coverage (
    log_id VARCHAR NOT NULL,  -- lower-case hex SHA-256 of the log public key (RFC 6962 LogID)
    start_index BIGINT NOT NULL,
    end_exclusive BIGINT NOT NULL,
    tree_size BIGINT NOT NULL,  -- of the verified tree head that covers the range
    sth_timestamp TIMESTAMPTZ NOT NULL,
    sth_root_hash VARCHAR NOT NULL,  -- lower-case hex
    ingested_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    CHECK (0 <= start_index AND start_index < end_exclusive AND end_exclusive <= tree_size)
);
COMMENT ON TABLE ct_log_coverage IS
    'Per-log half-open entry ranges [start_index, end_exclusive) fully ingested, each tied to the verified tree head covering it.';

CREATE TABLE revocation_observations (
    -- target: the certificate itself, or issuer (key or name) + serial, or a subject key (OneCRL
    -- subject/pubKeyHash, CRLSet blocked SPKI)
    der_sha256 VARCHAR,
    issuer_spki_sha256 VARCHAR,
    issuer_name_der BLOB,
    serial_hex VARCHAR,
    subject_spki_sha256 VARCHAR,
    subject_name_der BLOB,
    source VARCHAR NOT NULL,
    observer VARCHAR NOT NULL,  -- who saw it: 'ctwatch', 'crtsh', 'ccadb', 'onecrl', ...
    revoked_at_claimed TIMESTAMPTZ,  -- what the source says (CRL revocationDate, OCSP revocationTime, ...)
    reason VARCHAR,  -- RFC 5280 CRLReason name, or the source's own words
    first_observed_at TIMESTAMPTZ NOT NULL,  -- first time the observer saw it revoked: proves when the world could know
    last_observed_at TIMESTAMPTZ NOT NULL,
    last_observed_absent_at TIMESTAMPTZ,  -- latest check before first_observed_at that did not list it
    evidence_sha256 VARCHAR,  -- hash of the CRL / OCSP response / report bytes kept as evidence
    evidence_ref VARCHAR,  -- where that evidence lives (URL, archive path)
    CHECK (source IN ('crl', 'ocsp', 'ccadb', 'mozilla_revoked', 'onecrl', 'crlset', 'crtsh')),
    CHECK (
        der_sha256 IS NOT NULL
        OR (serial_hex IS NOT NULL AND (issuer_spki_sha256 IS NOT NULL OR issuer_name_der IS NOT NULL))
        OR subject_spki_sha256 IS NOT NULL
    ),
    CHECK (first_observed_at <= last_observed_at),
    CHECK (last_observed_absent_at IS NULL OR last_observed_absent_at < first_observed_at)
);
COMMENT ON TABLE revocation_observations IS
    'Evidence that a source lists a certificate as revoked: the CA-claimed time and our (or a third party''s) first and last observation.';

CREATE SEQUENCE incident_id_seq START 1;
CREATE TABLE incidents (
    id BIGINT PRIMARY KEY DEFAULT nextval('incident_id_seq'),
    rule_id VARCHAR NOT NULL,
    ca_owner VARCHAR NOT NULL,
    subordinate_ca_owner VARCHAR,
    clock_start TIMESTAMPTZ NOT NULL,
    clock_source VARCHAR NOT NULL,  -- 'public_disclosure', 'bugzilla_filing', 'ct_first_seen', 'ctwatch_detection'
    revocation_window INTERVAL NOT NULL,  -- from ctwatch.policy, valid at clock_start
    deadline TIMESTAMPTZ NOT NULL,
    declared BOOLEAN NOT NULL,  -- publicly reported (e.g. a Bugzilla incident), not only detected by ctwatch
    created_as_of TIMESTAMPTZ NOT NULL,
    CHECK (deadline >= clock_start)
);
COMMENT ON TABLE incidents IS
    'A rule broken by a CA: revocation clock start (with its source), window and deadline.';

CREATE TABLE incident_key_groups (
    incident_id BIGINT NOT NULL,
    spki_sha256 VARCHAR NOT NULL,
    added_as_of TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (incident_id, spki_sha256)
);
COMMENT ON TABLE incident_key_groups IS
    'The key groups an incident covers: every certificate of each group must be revoked to close it.';
