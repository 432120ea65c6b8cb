-- A version archived from the same bytes: any URL when the CRL names its scope (IDP), else only
-- from the same URL (without IDP the URL is the partition).
SELECT version_id
FROM crl_versions
WHERE body_sha256 = $sha AND (idp_scope IS NOT NULL OR first_url = $url)
ORDER BY version_id
LIMIT 1;
