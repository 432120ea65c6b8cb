-- The tables of an attached database, each with its qualified name (for query_table).
SELECT table_name, database_name || '.' || schema_name || '.' || table_name AS qualified_name
FROM duckdb_tables()
WHERE database_name = $database
ORDER BY table_name;
