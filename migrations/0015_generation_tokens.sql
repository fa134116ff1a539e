-- Token fingerprints: a generation's output as winnowed hashes of runs of canonical tokens
-- (change::tokens), so output a formatter re-laid out (re-wrapped, re-quoted, semicolons or
-- trailing commas added or dropped) is still found. Generations recorded before this have none
-- and are found by their lines and edits, as before.
CREATE TABLE generation_tokens (
    generation_id TEXT NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
    hash INTEGER NOT NULL,
    PRIMARY KEY (hash, generation_id)
) WITHOUT ROWID;
CREATE INDEX generation_tokens_by_generation ON generation_tokens (generation_id);
