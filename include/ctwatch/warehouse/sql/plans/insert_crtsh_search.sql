INSERT INTO crtsh_issuer_searches (
    issuer_spki_sha256, crtsh_ca_id, url, min_not_before, observed_at, queries, rows_returned, truncated, error
)
VALUES (
    $issuer_spki_sha256, $crtsh_ca_id, $url, $min_not_before, $observed_at, $queries, $rows_returned, $truncated,
    $error
)
RETURNING search_id;
