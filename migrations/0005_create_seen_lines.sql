-- The added lines each review's requests carried, exactly as sent: after redaction, without
-- withheld files, from every part. An approving verdict approves these and nothing else
-- (approved_lines is written from them alone); a fix loop's re-review may add the lines its
-- earlier review saw. Kept for every verdict, approving or not.
CREATE TABLE seen_lines (
    verdict_id  INTEGER NOT NULL REFERENCES verdicts (id),
    fingerprint INTEGER NOT NULL,
    PRIMARY KEY (verdict_id, fingerprint)
) WITHOUT ROWID;
