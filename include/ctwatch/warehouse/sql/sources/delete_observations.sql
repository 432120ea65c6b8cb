-- Drop the revocation_observations of $source before they are rebuilt (refresh_observations).
DELETE FROM revocation_observations WHERE source = $source;
