-- Whether the migration bookkeeping table exists (1) or not (0): nothing was ever applied without it.
SELECT count(*)
FROM duckdb_tables()
WHERE schema_name = 'main' AND table_name = 'schema_migrations';
