-- Whether the warehouse holds this certificate.
SELECT count(*) > 0 FROM certificates WHERE der_sha256 = $der_sha256;
