-- The comments one fetch returned: new ones are added; one seen before keeps its row, with the
-- earlier first observation (a backfill may fetch an earlier as-of after a later one), and gains
-- its text if it was stored before texts were kept.
INSERT INTO bugzilla_comments (
    comment_id, bug_id, count, creator, creation_time, is_private, text, first_observed_at, location
)
SELECT
    unnest($comment_id::BIGINT[]),
    $bug_id,
    unnest($count::INTEGER[]),
    unnest($creator::VARCHAR[]),
    unnest($creation_time::TIMESTAMPTZ[]),
    unnest($is_private::BOOLEAN[]),
    unnest($text::VARCHAR[]),
    $observed_at,
    $location
ON CONFLICT (comment_id) DO UPDATE
SET
    first_observed_at = least(bugzilla_comments.first_observed_at, excluded.first_observed_at),
    location = CASE
        WHEN excluded.first_observed_at < bugzilla_comments.first_observed_at THEN excluded.location
        ELSE bugzilla_comments.location
    END,
    text = coalesce(bugzilla_comments.text, excluded.text)
WHERE excluded.first_observed_at < bugzilla_comments.first_observed_at
    OR (bugzilla_comments.text IS NULL AND excluded.text IS NOT NULL);
