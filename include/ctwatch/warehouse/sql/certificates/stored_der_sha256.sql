-- Which of the certificates $hashes the warehouse holds already.
SELECT der_sha256 FROM certificates WHERE der_sha256 IN (SELECT unnest($hashes::VARCHAR[]));
