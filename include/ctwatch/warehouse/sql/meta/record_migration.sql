-- Record that a migration file was applied, with the SHA-256 of its bytes.
INSERT INTO schema_migrations VALUES ($version, $name, $sha256, current_timestamp);
