-- One attestation; recording the same (key, date, auditor) again keeps the first link and the
-- first recorded time.
INSERT INTO key_destruction_attestations (spki_sha256, destroyed_at, auditor, link, recorded_at)
VALUES ($spki_sha256, $destroyed_at, $auditor, $link, $recorded_at)
ON CONFLICT DO NOTHING;
