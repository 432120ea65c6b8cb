-- 0009: Bugzilla comments (did the CA's own updates keep the IRG 7-day rhythm?). The
-- assignee of a CA-compliance bug is the CA's representative, so searches now keep the assignee
-- and the reporter; each comment is kept once (who wrote it and when, not the text), with when
-- ctwatch first saw it; every comment fetch is recorded, so a report knows up to when a bug's
-- comments are known.

-- NULL in rows of searches made before this migration
ALTER TABLE bugzilla_bugs ADD COLUMN assigned_to VARCHAR;
ALTER TABLE bugzilla_bugs ADD COLUMN creator VARCHAR;

CREATE TABLE bugzilla_comments (
    comment_id BIGINT PRIMARY KEY,  -- Bugzilla's comment id, unique across bugs
    bug_id BIGINT NOT NULL,
    count INTEGER NOT NULL,  -- Bugzilla's number of the comment in its bug; 0 is the description
    creator VARCHAR NOT NULL,  -- login of the author
    creation_time TIMESTAMPTZ NOT NULL,
    is_private BOOLEAN NOT NULL,
    first_observed_at TIMESTAMPTZ NOT NULL,  -- the earliest fetch that returned it
    location VARCHAR NOT NULL  -- the comment URL of that fetch
);
COMMENT ON TABLE bugzilla_comments IS
    'Bugzilla comments (author and time, not the text), one row per comment, with ctwatch''s first observation.';

CREATE TABLE bugzilla_comment_fetches (
    bug_id BIGINT NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,  -- live fetch time, or the as-of a simulator answer represents
    new_since TIMESTAMPTZ,  -- Bugzilla's new_since sent (only newer comments); NULL: all comments
    comments_returned INTEGER NOT NULL,
    record_errors INTEGER NOT NULL,  -- malformed comments (in revocation_source_errors): incomplete
    -- the newest creation_time known after this fetch: the next fetch's new_since
    newest_comment_at TIMESTAMPTZ,
    location VARCHAR NOT NULL
);
COMMENT ON TABLE bugzilla_comment_fetches IS
    'Every fetch of a bug''s comments: a complete one (no record errors) shows all comments created by then.';
