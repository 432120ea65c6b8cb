-- Every CA Owner and Subordinate CA Owner name CCADB has listed.
SELECT DISTINCT name
FROM (SELECT ca_owner AS name FROM ccadb_records UNION SELECT subordinate_ca_owner FROM ccadb_records)
WHERE name IS NOT NULL;
