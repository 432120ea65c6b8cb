-- 0006: the compliance clock. Inputs staff record (problem reports ctwatch sent, key
-- destruction attestations) and the evaluator's output per as-of: incidents with their clock,
-- one verdict per (incident, certificate), one status per (incident, key group).
-- Output rows are replaced as a whole for one as_of, so evaluating the same as_of twice gives the
-- same rows and any past as_of stays reproducible. The 0001 tables incidents/incident_key_groups
-- need a clock start, which an incident may not have yet: the evaluator does not use them.

CREATE TABLE problem_reports (
    report_id VARCHAR PRIMARY KEY,  -- staff's own reference, e.g. the Message-ID
    ca_owner VARCHAR NOT NULL,  -- CCADB CA Owner the report went to
    rule_id VARCHAR,  -- NULL: about every rule
    der_sha256 VARCHAR,  -- NULL: about every certificate of the owner
    sent_at TIMESTAMPTZ NOT NULL,  -- starts the clock: the CA was demonstrably made aware then
    recipient VARCHAR NOT NULL,
    link VARCHAR,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp  -- when ctwatch learnt of it: earlier as-ofs ignore it
);
COMMENT ON TABLE problem_reports IS
    'Certificate problem reports ctwatch staff sent to a CA: a clock start source.';

CREATE TABLE key_destruction_attestations (
    spki_sha256 VARCHAR NOT NULL,
    destroyed_at TIMESTAMPTZ NOT NULL,  -- date-only input means 00:00 UTC
    auditor VARCHAR NOT NULL,
    link VARCHAR NOT NULL,  -- audit report or Bugzilla comment
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,  -- when ctwatch learnt of it
    PRIMARY KEY (spki_sha256, destroyed_at, auditor)
);
COMMENT ON TABLE key_destruction_attestations IS
    'Attested destruction of a key: closes an OCSP-EKU key group once every member is revoked or expired.';

CREATE TABLE compliance_runs (
    as_of TIMESTAMPTZ PRIMARY KEY,
    config_sha256 VARCHAR NOT NULL,  -- of the declared-incident configuration used
    incidents INTEGER NOT NULL,
    verdicts INTEGER NOT NULL,
    out_of_scope INTEGER NOT NULL,  -- findings outside every root store and every declared incident
    evaluated_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp  -- wall clock, not evidence
);
COMMENT ON TABLE compliance_runs IS 'One row per evaluated as-of.';

CREATE TABLE compliance_incidents (
    as_of TIMESTAMPTZ NOT NULL,
    incident_id VARCHAR NOT NULL,  -- '<declared id or rule id>:<CA owner>', stable across as-ofs
    rule_id VARCHAR NOT NULL,
    rule_citation VARCHAR NOT NULL,
    declared_id VARCHAR,
    ca_owner VARCHAR NOT NULL,
    subordinate_ca_owners VARCHAR[] NOT NULL,
    root_stores VARCHAR[] NOT NULL,  -- stores including a root the incident's chains reach
    scope_basis VARCHAR NOT NULL,
    clock_start TIMESTAMPTZ,  -- NULL: nobody has made the CA aware yet (as of as_of)
    clock_source VARCHAR,  -- 'public_disclosure', 'bugzilla_filing', 'problem_report'
    clock_source_detail VARCHAR,
    first_detected_as_of TIMESTAMPTZ,  -- ctwatch's own first finding: shown, starts no clock
    window_kind VARCHAR,
    window_s BIGINT,
    deadline TIMESTAMPTZ,  -- for members issued before the clock start
    publication_allowance_s BIGINT,
    window_citation VARCHAR,
    key_destruction_required BOOLEAN NOT NULL,
    certificates INTEGER NOT NULL,
    key_groups INTEGER NOT NULL,
    status VARCHAR NOT NULL  -- 'clock_not_started', 'open', 'revoked_awaiting_key_destruction', 'closed'
);
COMMENT ON TABLE compliance_incidents IS 'Incidents as of each evaluated as-of, with the clock and its source.';

CREATE TABLE compliance_verdicts (
    as_of TIMESTAMPTZ NOT NULL,
    incident_id VARCHAR NOT NULL,
    der_sha256 VARCHAR NOT NULL,
    precert_der_sha256 VARCHAR,
    spki_sha256 VARCHAR,
    has_finding BOOLEAN NOT NULL,  -- false: in the incident as a member of a key group with one
    kind VARCHAR NOT NULL,
    ca_owner VARCHAR NOT NULL,
    subordinate_ca_owner VARCHAR,
    subject VARCHAR,
    issuer VARCHAR,
    serial_hex VARCHAR,
    not_before TIMESTAMPTZ,
    not_after TIMESTAMPTZ,
    dns_names VARCHAR[],  -- NULL for CA certificates (n/a)
    first_ct_at TIMESTAMPTZ,
    first_ct_basis VARCHAR NOT NULL,
    deadline TIMESTAMPTZ,
    deadline_basis VARCHAR NOT NULL,
    planned_revocation_at TIMESTAMPTZ,  -- declared by the CA, from the configuration
    status VARCHAR NOT NULL,  -- ctwatch.evaluate.Status
    delay_s BIGINT,  -- revoked_late: the delay; overdue: so far; expired_unrevoked: time overdue
    basis VARCHAR NOT NULL,  -- ctwatch.evaluate.Basis
    revoked_at_claimed TIMESTAMPTZ,
    revocation_reason VARCHAR,
    first_observed_revoked_at TIMESTAMPTZ,  -- ctwatch's own first observation
    bounds VARCHAR[] NOT NULL,  -- claimed times and third-party bounds the verdict used, in words
    arithmetic VARCHAR[] NOT NULL,  -- the verdict's computation, one line per step
    evidence VARCHAR[] NOT NULL  -- one reference per observation: source, observer, evidence hash or URL
);
COMMENT ON TABLE compliance_verdicts IS 'One verdict per (as_of, incident, certificate), with its basis and arithmetic.';

CREATE TABLE compliance_key_groups (
    as_of TIMESTAMPTZ NOT NULL,
    incident_id VARCHAR NOT NULL,
    spki_sha256 VARCHAR NOT NULL,
    members INTEGER NOT NULL,
    roots_listed INTEGER NOT NULL,  -- listed, not waited for
    revoked INTEGER NOT NULL,
    expired INTEGER NOT NULL,
    open INTEGER NOT NULL,
    late INTEGER NOT NULL,
    max_delay_s BIGINT,
    key_destruction_required BOOLEAN NOT NULL,
    key_destroyed_at TIMESTAMPTZ,
    key_destruction_auditor VARCHAR,
    key_destruction_link VARCHAR,
    status VARCHAR NOT NULL  -- 'open', 'revoked_awaiting_key_destruction', 'closed'
);
COMMENT ON TABLE compliance_key_groups IS 'Per key group of an incident: members revoked or not, and key destruction.';
