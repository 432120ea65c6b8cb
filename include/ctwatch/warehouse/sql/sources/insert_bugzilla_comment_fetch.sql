-- One fetch of a bug's comments; newest_comment_at = the newest creation time known after it.
INSERT INTO bugzilla_comment_fetches (
    bug_id, fetched_at, new_since, comments_returned, record_errors, newest_comment_at, location
)
SELECT
    $bug_id, $fetched_at, $new_since, $comments_returned, $record_errors,
    greatest($new_since, $newest_returned), $location;
