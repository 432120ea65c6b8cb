-- How many stored certificates are marked as cross-certificates.
SELECT count(*) FROM certificates WHERE is_cross_certificate;
