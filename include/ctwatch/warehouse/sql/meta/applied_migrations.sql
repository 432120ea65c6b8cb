-- Every applied migration with the SHA-256 its file had then.
SELECT version, sha256 FROM schema_migrations ORDER BY version;
