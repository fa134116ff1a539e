-- Exact approvals. Detection stays fuzzy (line fingerprints); what an approval covers becomes
-- exact: the identity of each line's text as a request showed it, and of each edit (a line added
-- or removed, with the lines on either side of it). A generation records its edits too, so a
-- protected update that brings them back (its commits, a cherry-pick, a squash, a re-typed patch)
-- is judged on exactly what changed — short lines, whitespace, deletions and moves included.
-- Approvals recorded before this keep covering lines by fingerprint (approved_lines); they cover
-- no edit.
CREATE TABLE generation_edits (
    generation_id TEXT NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
    edit INTEGER NOT NULL,
    PRIMARY KEY (edit, generation_id)
) WITHOUT ROWID;
CREATE INDEX generation_edits_by_generation ON generation_edits (generation_id);

CREATE TABLE seen_exact (
    verdict_id INTEGER NOT NULL REFERENCES verdicts (id) ON DELETE CASCADE,
    hash INTEGER NOT NULL,
    PRIMARY KEY (verdict_id, hash)
) WITHOUT ROWID;

CREATE TABLE approved_exact (
    hash INTEGER NOT NULL,
    verdict_id INTEGER NOT NULL REFERENCES verdicts (id) ON DELETE CASCADE,
    PRIMARY KEY (hash, verdict_id)
) WITHOUT ROWID;
