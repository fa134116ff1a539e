-- Records travel with the repository (refs/hybrid/records): which rows were written there, and,
-- for verdicts, the key of their file (a digest of its content), so a verdict read back from the
-- ref is recognised and never recorded twice.
ALTER TABLE generations ADD COLUMN published INTEGER NOT NULL DEFAULT 0;
ALTER TABLE verdicts ADD COLUMN published INTEGER NOT NULL DEFAULT 0;
ALTER TABLE verdicts ADD COLUMN record_key TEXT;
CREATE UNIQUE INDEX verdicts_record_key ON verdicts (record_key) WHERE record_key IS NOT NULL;
