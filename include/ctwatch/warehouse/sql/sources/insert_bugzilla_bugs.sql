-- Bugs as one search saw them; the same bug seen again at the same time is not repeated.
INSERT INTO bugzilla_bugs (
    bug_id, observed_at, summary, whiteboard, product, component, status, resolution,
    assigned_to, creator, creation_time, last_change_time, revocation_delay_tags, ca_owner, location
)
WITH batch AS (
    SELECT
        unnest($bug_id::BIGINT[]) AS bug_id,
        unnest($summary::VARCHAR[]) AS summary,
        unnest($whiteboard::VARCHAR[]) AS whiteboard,
        unnest($product::VARCHAR[]) AS product,
        unnest($component::VARCHAR[]) AS component,
        unnest($status::VARCHAR[]) AS status,
        unnest($resolution::VARCHAR[]) AS resolution,
        unnest($assigned_to::VARCHAR[]) AS assigned_to,
        unnest($creator::VARCHAR[]) AS creator,
        unnest($creation_time::TIMESTAMPTZ[]) AS creation_time,
        unnest($last_change_time::TIMESTAMPTZ[]) AS last_change_time,
        unnest($revocation_delay_tags::VARCHAR[][]) AS revocation_delay_tags,
        unnest($ca_owner::VARCHAR[]) AS ca_owner
)
SELECT
    b.bug_id, $observed_at, b.summary, b.whiteboard, b.product, b.component, b.status, b.resolution,
    b.assigned_to, b.creator, b.creation_time, b.last_change_time, b.revocation_delay_tags, b.ca_owner, $location
FROM batch AS b
WHERE NOT EXISTS (
    SELECT 1 FROM bugzilla_bugs AS x WHERE x.bug_id = b.bug_id AND x.observed_at = $observed_at
);
