-- One attestation; recording the same (key, date, auditor) again keeps the first link.
INSERT INTO key_destruction_attestations (spki_sha256, destroyed_at, auditor, link)
VALUES ($spki_sha256, $destroyed_at, $auditor, $link)
ON CONFLICT DO NOTHING;
