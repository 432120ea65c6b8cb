-- The dashboard's snapshot: what the pages show, as of one evaluation, written beside the live
-- file and renamed into place. Documents are JSON: a page reads one row, or one incident's rows.
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE incidents (incident_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE certificates (
    incident_id TEXT NOT NULL,
    der_sha256 TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (incident_id, der_sha256)
);
CREATE TABLE evidence (der_sha256 TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE files (incident_id TEXT NOT NULL, name TEXT NOT NULL, content BLOB NOT NULL,
                    PRIMARY KEY (incident_id, name));
CREATE TABLE sources (doc TEXT NOT NULL);
CREATE TABLE ct_logs (doc TEXT NOT NULL);
CREATE TABLE alerts (position INTEGER PRIMARY KEY, doc TEXT NOT NULL);
-- A declared plan against the evidence (ctwatch.evaluate.read_plans), one document per incident with
-- a plan; its leaves issued after the stop date one row each, so a page reads only those it lists.
CREATE TABLE plans (incident_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE plan_late_leaves (
    incident_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (incident_id, position)
);
