-- Which ref each records tip was read from, and when: a ref whose new tip no longer holds a record
-- file its last-read tip held was rewritten (a forced push to a forge that runs no server hook),
-- and the clone that notices says so instead of quietly reading less from then on.
ALTER TABLE imported_tips ADD COLUMN refname TEXT;
ALTER TABLE imported_tips ADD COLUMN read_at INTEGER;
CREATE INDEX imported_tips_by_ref ON imported_tips (refname, read_at);
