-- 0004: revocation sources other than ctwatch's own CRL archive: OCSP, CCADB, Mozilla's
-- revoked intermediates, OneCRL, Chrome's CRLSet, crt.sh, Bugzilla, and their disagreements.
-- Every fetch or import is a snapshot with its observation time; what a snapshot says about one
-- certificate is a sighting. revocation_observations rows of these sources are derived from the
-- sightings (sql/sources/refresh_observations.sql), so snapshots may arrive in any order.

CREATE SEQUENCE revocation_snapshot_id_seq START 1;
CREATE TABLE revocation_snapshots (
    id BIGINT PRIMARY KEY DEFAULT nextval('revocation_snapshot_id_seq'),
    source VARCHAR NOT NULL,  -- the vocabulary of revocation_observations.source
    observer VARCHAR NOT NULL,  -- whose statement it is: 'ctwatch' (OCSP), 'ccadb', 'onecrl', 'crlset', 'crtsh'
    observed_at TIMESTAMPTZ NOT NULL,
    -- 'fetch': real time of a live fetch; 'as_of': the as-of time a simulator answer represents;
    -- 'archive': the date of an archived snapshot (00:00 UTC for a date-only name)
    stamp_kind VARCHAR NOT NULL,
    location VARCHAR NOT NULL,  -- URL or file path
    content_sha256 VARCHAR NOT NULL,  -- of the bytes as received
    raw_header VARCHAR,  -- CSV reports: the header line exactly as served
    -- true: the snapshot is a full list of what the source considers revoked, so absence means
    -- "not listed then" (OneCRL, CRLSet, Mozilla's revoked intermediates)
    lists_all_revoked BOOLEAN NOT NULL,
    record_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,  -- wall clock of the insert, not evidence
    CHECK (source IN ('ocsp', 'ccadb', 'mozilla_revoked', 'onecrl', 'crlset', 'crtsh')),
    CHECK (stamp_kind IN ('fetch', 'as_of', 'archive'))
);
COMMENT ON TABLE revocation_snapshots IS
    'One fetch or import of a revocation source, stamped with when it represents the world; never deleted.';

CREATE TABLE revocation_sightings (
    snapshot_id BIGINT NOT NULL,
    der_sha256 VARCHAR,
    issuer_spki_sha256 VARCHAR,
    issuer_name_der BLOB,
    serial_hex VARCHAR,  -- the form of ParsedCert.serial_hex
    subject_spki_sha256 VARCHAR,
    subject_name_der BLOB,
    -- 'revoked'; 'good' (OCSP); 'unknown' (OCSP); 'not_revoked' (CCADB status, crt.sh without a CRL entry)
    status VARCHAR NOT NULL,
    revoked_at_claimed TIMESTAMPTZ,  -- the CA's claim as this source reports it
    reason VARCHAR,
    source_action_at TIMESTAMPTZ,  -- when the source itself acted (OneCRL details.created): not a CA claim
    source_modified_at TIMESTAMPTZ,  -- OneCRL last_modified
    third_party_seen_at TIMESTAMPTZ,  -- crt.sh LAST_SEEN_CHECK_DATE: the third party saw it revoked then
    this_update TIMESTAMPTZ,  -- OCSP
    next_update TIMESTAMPTZ,  -- OCSP
    record_ref VARCHAR,  -- the source's own id: OneCRL id, CCADB record id, crt.sh id, OCSP URL
    detail VARCHAR,  -- JSON of source-specific fields kept verbatim
    CHECK (status IN ('revoked', 'good', 'unknown', 'not_revoked')),
    CHECK (
        der_sha256 IS NOT NULL
        OR (serial_hex IS NOT NULL AND (issuer_spki_sha256 IS NOT NULL OR issuer_name_der IS NOT NULL))
        OR subject_spki_sha256 IS NOT NULL
    )
);
COMMENT ON TABLE revocation_sightings IS
    'What one snapshot says about one certificate (or issuer+serial, or subject key).';

CREATE TABLE revocation_source_errors (
    snapshot_id BIGINT,  -- NULL: the whole fetch failed, no snapshot exists
    source VARCHAR NOT NULL,
    location VARCHAR NOT NULL,
    record_ref VARCHAR,  -- row number, record id, ... of the malformed record
    error VARCHAR NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE revocation_source_errors IS
    'Malformed records and failed fetches of revocation sources: kept with their reason, never dropped.';

CREATE TABLE ccadb_records (
    snapshot_id BIGINT NOT NULL,
    der_sha256 VARCHAR NOT NULL,  -- lower-case of the report's SHA-256 Fingerprint
    salesforce_record_id VARCHAR,
    certificate_name VARCHAR,
    ca_owner VARCHAR,
    subordinate_ca_owner VARCHAR,
    parent_der_sha256 VARCHAR,
    parent_salesforce_record_id VARCHAR,
    record_type VARCHAR,  -- 'Root Certificate' | 'Intermediate Certificate'
    revocation_status VARCHAR,  -- 'Not Revoked' | 'Revoked' | 'Parent Cert Revoked' | '' (roots)
    apple_status VARCHAR,
    chrome_status VARCHAR,
    microsoft_status VARCHAR,
    mozilla_status VARCHAR,
    root_status VARCHAR,  -- 'Status of Root Cert': the trust scope inherited from the root
    trust_bits_for_root VARCHAR,
    derived_trust_bits VARCHAR,
    technically_constrained BOOLEAN,
    valid_from DATE,
    valid_to DATE,
    full_crl_urls VARCHAR[] NOT NULL,
    partitioned_crl_urls VARCHAR[] NOT NULL
);
COMMENT ON TABLE ccadb_records IS
    'Every row of every stored CCADB AllCertificateRecords snapshot (owner, parent, trust bits, store and revocation status).';

CREATE TABLE bugzilla_bugs (
    bug_id BIGINT NOT NULL,
    observed_at TIMESTAMPTZ NOT NULL,
    summary VARCHAR NOT NULL,
    whiteboard VARCHAR NOT NULL,
    product VARCHAR,
    component VARCHAR,
    status VARCHAR,
    resolution VARCHAR,
    creation_time TIMESTAMPTZ NOT NULL,  -- filing time: a possible clock start
    last_change_time TIMESTAMPTZ,
    revocation_delay_tags VARCHAR[] NOT NULL,  -- whiteboard tags matching the revocation-delay patterns
    ca_owner VARCHAR,  -- the CCADB CA Owner the summary names; NULL when none matched
    location VARCHAR NOT NULL
);
COMMENT ON TABLE bugzilla_bugs IS
    'CA-compliance bugs as each search saw them (one row per bug and observation).';

CREATE TABLE revocation_disagreements (
    kind VARCHAR NOT NULL,
    der_sha256 VARCHAR NOT NULL,
    revoked_side VARCHAR NOT NULL,  -- JSON: the source(s) saying revoked, with their evidence
    other_side VARCHAR NOT NULL,  -- JSON: the source saying otherwise (or the CA channels that are silent)
    first_found_as_of TIMESTAMPTZ NOT NULL,
    evaluated_as_of TIMESTAMPTZ NOT NULL,
    resolved_as_of TIMESTAMPTZ,
    CHECK (kind IN ('crl_revoked_ccadb_not_revoked', 'onecrl_without_ca_revocation', 'ocsp_good_crl_revoked')),
    CHECK (first_found_as_of <= evaluated_as_of),
    CHECK (resolved_as_of IS NULL OR resolved_as_of > evaluated_as_of)
);
COMMENT ON TABLE revocation_disagreements IS
    'Sources that disagree about one certificate, with both sides'' evidence; closed when they no longer do.';

-- Each revocation observation with the stored certificates it names: directly, by issuer
-- (name or key) + serial, or by subject key (+ name when given).
CREATE VIEW revocation_observations_by_certificate AS
SELECT c.der_sha256 AS certificate_der_sha256, o.*
FROM revocation_observations AS o
JOIN certificates AS c ON c.der_sha256 = o.der_sha256
UNION ALL
SELECT c.der_sha256, o.*
FROM revocation_observations AS o
JOIN certificates AS c ON o.der_sha256 IS NULL AND c.serial_hex = o.serial_hex AND c.issuer_der = o.issuer_name_der
UNION ALL
SELECT DISTINCT c.der_sha256, o.*
FROM revocation_observations AS o
JOIN certificates AS issuer ON issuer.spki_sha256 = o.issuer_spki_sha256
JOIN certificates AS c ON c.issuer_der = issuer.subject_der AND c.serial_hex = o.serial_hex
WHERE o.der_sha256 IS NULL AND o.issuer_name_der IS NULL
UNION ALL
SELECT c.der_sha256, o.*
FROM revocation_observations AS o
JOIN certificates AS c ON c.spki_sha256 = o.subject_spki_sha256
WHERE o.der_sha256 IS NULL AND o.serial_hex IS NULL
    AND (o.subject_name_der IS NULL OR o.subject_name_der = c.subject_der);
COMMENT ON VIEW revocation_observations_by_certificate IS
    'revocation_observations resolved to stored certificates (certificate_der_sha256).';

-- Findings over ctwatch's CRL archive (ctwatch.warehouse.crl_archive.archive_findings), kept across
-- evaluations like rule_findings: opened at the first as-of that found them, resolved, never deleted.
CREATE TABLE crl_findings (
    finding_key VARCHAR NOT NULL,  -- code|partition_key|serial_hex|crl_sha256|finding_at: its identity across evaluations
    code VARCHAR NOT NULL,  -- e.g. 'crl_revocation_backdated', 'crl_partition_undisclosed'
    severity VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,  -- as of the latest evaluation that found it
    partition_key VARCHAR NOT NULL,
    finding_at TIMESTAMPTZ NOT NULL,  -- the moment it is about: a claimed date, a removal, a nextUpdate
    serial_hex VARCHAR,
    crl_sha256 VARCHAR,  -- the version that shows it
    first_found_as_of TIMESTAMPTZ NOT NULL,
    evaluated_as_of TIMESTAMPTZ NOT NULL,
    resolved_as_of TIMESTAMPTZ,
    CHECK (first_found_as_of <= evaluated_as_of),
    CHECK (resolved_as_of IS NULL OR resolved_as_of > evaluated_as_of)
);
COMMENT ON TABLE crl_findings IS
    'Backdating, early removal, changed entries, stale or badly signed CRLs and undisclosed partitions, by evaluation as-of.';
