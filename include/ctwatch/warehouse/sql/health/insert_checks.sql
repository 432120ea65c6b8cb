INSERT INTO source_checks (source, target, checked_at, ok, failure)
SELECT * FROM (
    SELECT unnest($source) AS source, unnest($target) AS target, unnest($checked_at) AS checked_at,
           unnest($ok) AS ok, unnest($failure) AS failure
)
