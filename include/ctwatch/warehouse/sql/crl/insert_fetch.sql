-- Record one fetch attempt of a CRL URL: an error, a 304 or the version it served.
INSERT INTO crl_fetches (
    url, observed_at, stamped_with_as_of, http_status, not_modified, version_id, body_sha256,
    size_bytes, etag, last_modified, error
)
VALUES (
    $url, $observed_at, $stamped_with_as_of, $http_status, $not_modified, $version_id, $body_sha256,
    $size_bytes, $etag, $last_modified, $error
);
