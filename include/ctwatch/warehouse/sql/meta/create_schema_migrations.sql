-- Bookkeeping of applied migrations; created before any migration runs.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,  -- of the migration file bytes: an edited applied migration is an error
    applied_at TIMESTAMPTZ NOT NULL
);
