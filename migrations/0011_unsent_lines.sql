-- The added lines of a reviewed change that its requests did not carry as written: a secret
-- redacted in them, or their file withheld. No approval ever covers them; the gate says so when
-- it blocks one, instead of sending the user to a review that would redact them again.
CREATE TABLE unsent_lines (
    verdict_id INTEGER NOT NULL REFERENCES verdicts(id) ON DELETE CASCADE,
    fingerprint INTEGER NOT NULL,
    PRIMARY KEY (verdict_id, fingerprint)
) WITHOUT ROWID;
CREATE INDEX unsent_lines_by_fingerprint ON unsent_lines (fingerprint);
