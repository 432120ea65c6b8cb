SELECT doc FROM certificates WHERE incident_id = ? ORDER BY der_sha256;
