-- Block size and blocks in use of the database in use, to check the file can hold them all.
SELECT block_size, used_blocks
FROM pragma_database_size()
WHERE database_name = current_database();
