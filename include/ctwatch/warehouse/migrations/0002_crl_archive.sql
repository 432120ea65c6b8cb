-- 0002: the CRL archive. Every fetch is an observation; every distinct CRL (by the SHA-256
-- of its DER) in a partition is a version; each serial is kept as intervals of presence over the
-- versions of its partition, ordered by (thisUpdate, cRLNumber, hash) - never by arrival order.

CREATE SEQUENCE crl_version_id_seq START 1;
CREATE TABLE crl_versions (
    version_id BIGINT PRIMARY KEY DEFAULT nextval('crl_version_id_seq'),
    partition_key VARCHAR NOT NULL,  -- sha256 hex of issuer DER + IDP scope (or the URL without IDP)
    crl_sha256 VARCHAR NOT NULL,  -- of the DER CertificateList
    body_sha256 VARCHAR NOT NULL,  -- of the bytes as served (PEM or DER)
    first_url VARCHAR NOT NULL,
    issuer_name_der BLOB NOT NULL,
    issuer_rfc4514 VARCHAR,
    issuer_spki_sha256 VARCHAR,  -- key the signature was checked with; NULL when none was given
    this_update TIMESTAMPTZ NOT NULL,
    next_update TIMESTAMPTZ,
    crl_number VARCHAR,  -- decimal text: up to 20 octets, more than BIGINT holds
    crl_number_order VARCHAR,  -- sortable form of crl_number (see crl_archive.py)
    delta_base_crl_number VARCHAR,
    idp_scope VARCHAR,  -- IssuingDistributionPoint.scope_text(); NULL without IDP
    idp_uris VARCHAR[] NOT NULL,
    size_bytes BIGINT NOT NULL,  -- of the DER
    entry_count BIGINT NOT NULL,
    entry_set_digest VARCHAR NOT NULL,  -- order-independent hash of (serial, date, reason) entries
    signature_status VARCHAR NOT NULL,  -- ctwatch.crl.SignatureStatus
    signature_detail VARCHAR,
    position INTEGER NOT NULL,  -- 1-based rank in its partition by (this_update, crl_number_order, crl_sha256)
    entry_set_changed BOOLEAN NOT NULL,  -- entry set differs from the version ranked before it
    raw_path VARCHAR,  -- staged raw file while kept; NULL once released (see release_raw)
    first_observed_at TIMESTAMPTZ NOT NULL,
    last_observed_at TIMESTAMPTZ NOT NULL,
    CHECK (first_observed_at <= last_observed_at)
);
COMMENT ON TABLE crl_versions IS
    'One row per distinct CRL (by DER hash) per partition: metadata always, raw file only while recent or changed.';

CREATE TABLE crl_fetches (
    url VARCHAR NOT NULL,
    observed_at TIMESTAMPTZ NOT NULL,  -- real arrival time, or the as-of the request carried
    stamped_with_as_of BOOLEAN NOT NULL,
    http_status INTEGER,
    not_modified BOOLEAN NOT NULL,
    version_id BIGINT,  -- the version served (for a 304: the one served before); NULL on error
    body_sha256 VARCHAR,
    size_bytes BIGINT NOT NULL,
    etag VARCHAR,
    last_modified VARCHAR,
    error VARCHAR
);
COMMENT ON TABLE crl_fetches IS
    'Every CRL fetch attempt, errors and 304s included: a few dozen bytes per poll.';

CREATE SEQUENCE crl_interval_id_seq START 1;
CREATE TABLE crl_serial_intervals (
    interval_id BIGINT PRIMARY KEY DEFAULT nextval('crl_interval_id_seq'),
    partition_key VARCHAR NOT NULL,
    serial_hex VARCHAR NOT NULL,  -- ctwatch.x509 form (two's complement hex when negative)
    revoked_at_claimed TIMESTAMPTZ,
    reason_code SMALLINT,  -- NULL: no reasonCode extension
    invalidity_date TIMESTAMPTZ,
    first_version_id BIGINT NOT NULL,  -- first version (by position) listing it with these values
    last_version_id BIGINT NOT NULL  -- last consecutive version listing it with these values
);
COMMENT ON TABLE crl_serial_intervals IS
    'A serial listed with the same date and reason by consecutive versions of a partition: one row per run.';

CREATE VIEW crl_serial_presence AS
SELECT
    i.*,
    f.this_update AS first_this_update,
    l.this_update AS last_this_update,
    absent.version_id AS absent_version_id,  -- the version ranked just before, which did not list it so
    absent.this_update AS absent_this_update,
    after.version_id AS removed_in_version_id,  -- the version ranked just after the run
    after.this_update AS removed_this_update
FROM crl_serial_intervals AS i
JOIN crl_versions AS f ON f.version_id = i.first_version_id
JOIN crl_versions AS l ON l.version_id = i.last_version_id
LEFT JOIN crl_versions AS absent ON absent.partition_key = i.partition_key AND absent.position = f.position - 1
LEFT JOIN crl_versions AS after ON after.partition_key = i.partition_key AND after.position = l.position + 1;
COMMENT ON VIEW crl_serial_presence IS
    'Intervals of presence with the versions that bound them: last without (absent_*) and first without after (removed_*).';
