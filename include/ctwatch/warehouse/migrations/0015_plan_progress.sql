-- 0015: declared plans checked against evidence (docs/plans.md): crt.sh's history of each affected
-- issuing CA, and per evaluation the measured progress and the leaves issued after a stop date.

CREATE SEQUENCE crtsh_issuer_search_id_seq START 1;
CREATE TABLE crtsh_issuer_searches (
    search_id BIGINT PRIMARY KEY DEFAULT nextval('crtsh_issuer_search_id_seq'),
    issuer_spki_sha256 VARCHAR NOT NULL,
    crtsh_ca_id BIGINT NOT NULL,
    url VARCHAR NOT NULL,  -- the first query; capped answers were split into more
    min_not_before DATE NOT NULL,
    observed_at TIMESTAMPTZ NOT NULL,  -- real arrival time, or the as-of a simulator was asked about
    queries INTEGER NOT NULL,
    rows_returned BIGINT NOT NULL,
    truncated VARCHAR[] NOT NULL,  -- patterns still capped: the search is incomplete
    error VARCHAR  -- NULL: crt.sh answered every query
);
COMMENT ON TABLE crtsh_issuer_searches IS
    'crt.sh searches for every certificate one issuing CA (crt.sh CA id) issued since min_not_before.';

CREATE TABLE crtsh_issuer_leaves (
    search_id BIGINT NOT NULL,
    crtsh_id BIGINT NOT NULL,
    serial_hex VARCHAR NOT NULL,  -- ctwatch.x509 form
    not_before TIMESTAMPTZ NOT NULL,
    not_after TIMESTAMPTZ NOT NULL,
    entry_timestamp TIMESTAMPTZ  -- crt.sh's CT entry time; NULL when it never saw one
);
COMMENT ON TABLE crtsh_issuer_leaves IS 'The rows of each crtsh_issuer_searches search (precertificate pairs deduplicated by crt.sh).';

CREATE TABLE plan_progress (
    as_of TIMESTAMPTZ NOT NULL,
    incident_id VARCHAR NOT NULL,
    position INTEGER NOT NULL,  -- order within the as-of and incident
    kind VARCHAR NOT NULL,  -- ctwatch.evaluate.plan_progress.PointKind
    measured_at TIMESTAMPTZ NOT NULL,  -- the instant measured (a month end, a milestone's due instant)
    label VARCHAR NOT NULL,
    plan_announced_at TIMESTAMPTZ,  -- the plan version in force at `at`; NULL before any
    plan_source VARCHAR,
    planned_percent DOUBLE,
    planned_count BIGINT,
    measured_percent DOUBLE,
    baseline BIGINT NOT NULL,
    remaining BIGINT,
    revoked BIGINT,
    expired BIGINT,
    state VARCHAR NOT NULL,  -- ctwatch.evaluate.plan_progress.PointState
    explanation VARCHAR[] NOT NULL  -- how each figure was measured: sources, windows, counts
);
COMMENT ON TABLE plan_progress IS 'Plan against evidence per evaluated as-of: month ends, milestones, stop and key-destruction dates.';

CREATE TABLE plan_late_issuance (
    as_of TIMESTAMPTZ NOT NULL,
    incident_id VARCHAR NOT NULL,
    stop_issuance TIMESTAMPTZ NOT NULL,
    issuer_spki_sha256 VARCHAR NOT NULL,
    serial_hex VARCHAR NOT NULL,
    not_before TIMESTAMPTZ NOT NULL,
    not_after TIMESTAMPTZ NOT NULL,
    log_id VARCHAR,  -- its earliest CT entry ctwatch holds; NULL when only crt.sh shows it
    entry_index BIGINT,
    entry_timestamp TIMESTAMPTZ,
    crtsh_id BIGINT
);
COMMENT ON TABLE plan_late_issuance IS 'Leaves an affected issuing CA issued after its plan''s stop date, per evaluated as-of.';

CREATE TABLE plan_runs (
    as_of TIMESTAMPTZ NOT NULL,
    incident_id VARCHAR NOT NULL,
    clock_start TIMESTAMPTZ NOT NULL,
    issuer_keys VARCHAR[] NOT NULL,  -- SPKI SHA-256 of the affected issuing CAs
    behind_margin_points DOUBLE NOT NULL,
    population VARCHAR[] NOT NULL  -- where the population comes from: CT logs and windows, crt.sh searches, CRLs
);
COMMENT ON TABLE plan_runs IS 'One row per evaluated as-of and incident with a declared plan.';
