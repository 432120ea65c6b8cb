-- (serial, notBefore) of every stored certificate: crt.sh's JSON has no SHA-256, so this pair tells
-- a certificate crt.sh returns apart from one already stored.
SELECT serial_hex, not_before FROM certificates
