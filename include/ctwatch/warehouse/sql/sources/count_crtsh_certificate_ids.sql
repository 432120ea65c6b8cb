-- How many crt.sh certificate IDs are stored.
SELECT count(*) FROM crtsh_certificate_ids;
