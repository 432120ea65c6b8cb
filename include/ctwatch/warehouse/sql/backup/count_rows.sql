-- Rows of one table, named as a bound value.
SELECT count(*) FROM query_table($table);
