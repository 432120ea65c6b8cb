-- A successful, uncapped search of this CA's history from at least min_not_before, made after
-- complete_after: the history up to the clock start is complete.
SELECT search_id
FROM crtsh_issuer_searches
WHERE issuer_spki_sha256 = $issuer_spki_sha256
  AND crtsh_ca_id = $crtsh_ca_id
  AND min_not_before <= $min_not_before
  AND observed_at > $complete_after
  AND error IS NULL
LIMIT 1;
