-- The new DuckDB file the backup is written to.
ATTACH $path AS backup;
