-- Record undecodable input; an identical (input, source, error) already recorded is kept once.
INSERT INTO cert_parse_errors (input_sha256, input_length, source, error)
WITH batch AS (
    SELECT
        unnest($input_sha256::VARCHAR[]) AS input_sha256,
        unnest($input_length::BIGINT[]) AS input_length,
        unnest($source::VARCHAR[]) AS source,
        unnest($error::VARCHAR[]) AS error
)
SELECT DISTINCT b.input_sha256, b.input_length, b.source, b.error
FROM batch AS b
WHERE NOT EXISTS (
    SELECT 1 FROM cert_parse_errors AS e
    WHERE e.input_sha256 = b.input_sha256 AND e.source = b.source AND e.error = b.error
);
