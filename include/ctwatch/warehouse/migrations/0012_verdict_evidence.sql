-- 0012: verdicts settled by the CA's own channels and judged from evidence. A verdict now keeps
-- its publication deadline, the bounds of a proven delay, ctwatch's last observation of the CA's
-- channel without the entry, its basis in words, findings (certificateHold) and root-program blocks
-- beside it; a key group keeps its closure. Disagreements gain two kinds: a report saying revoked
-- while the CA's covering CRL or OCSP observed later does not, and a CRLSet block without any CA
-- revocation. DuckDB cannot change a CHECK constraint, so that table is rebuilt with its rows.

ALTER TABLE compliance_verdicts ADD COLUMN publish_by TIMESTAMPTZ;
ALTER TABLE compliance_verdicts ADD COLUMN delay_max_s BIGINT;  -- late by at most this
ALTER TABLE compliance_verdicts ADD COLUMN basis_text VARCHAR NOT NULL DEFAULT '';
ALTER TABLE compliance_verdicts ADD COLUMN last_observed_absent_at TIMESTAMPTZ;
ALTER TABLE compliance_verdicts ADD COLUMN findings VARCHAR[] NOT NULL DEFAULT [];
ALTER TABLE compliance_verdicts ADD COLUMN root_program_actions VARCHAR[] NOT NULL DEFAULT [];

ALTER TABLE compliance_key_groups ADD COLUMN earliest_deadline TIMESTAMPTZ;
ALTER TABLE compliance_key_groups ADD COLUMN closed_at TIMESTAMPTZ;  -- NULL while open
ALTER TABLE compliance_key_groups ADD COLUMN closure_delay_s BIGINT;  -- closed_at - earliest_deadline

CREATE TABLE revocation_disagreements_0012 (
    kind VARCHAR NOT NULL,
    der_sha256 VARCHAR NOT NULL,
    revoked_side VARCHAR NOT NULL,  -- JSON: the source(s) saying revoked, with their evidence
    other_side VARCHAR NOT NULL,  -- JSON: the source saying otherwise (or the CA channels that are silent)
    first_found_as_of TIMESTAMPTZ NOT NULL,
    evaluated_as_of TIMESTAMPTZ NOT NULL,
    resolved_as_of TIMESTAMPTZ,
    CHECK (kind IN (
        'crl_revoked_ccadb_not_revoked', 'onecrl_without_ca_revocation', 'ocsp_good_crl_revoked',
        'report_revoked_ca_channel_not', 'crlset_without_ca_revocation'
    )),
    CHECK (first_found_as_of <= evaluated_as_of),
    CHECK (resolved_as_of IS NULL OR resolved_as_of > evaluated_as_of)
);
INSERT INTO revocation_disagreements_0012 SELECT * FROM revocation_disagreements;
DROP TABLE revocation_disagreements;
ALTER TABLE revocation_disagreements_0012 RENAME TO revocation_disagreements;
COMMENT ON TABLE revocation_disagreements IS
    'Sources that disagree about one certificate, with both sides'' evidence; closed when they no longer do.';
