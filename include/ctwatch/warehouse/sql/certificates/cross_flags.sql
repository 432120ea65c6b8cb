-- is_cross_certificate of the stored certificates among $hashes (see mark_cross).
SELECT der_sha256, is_cross_certificate
FROM certificates
WHERE der_sha256 IN (SELECT unnest($hashes::VARCHAR[]));
