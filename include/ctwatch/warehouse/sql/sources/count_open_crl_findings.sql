-- How many CRL archive findings are open.
SELECT count(*) FROM crl_findings WHERE resolved_as_of IS NULL;
