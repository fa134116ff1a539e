-- Who recorded a generation or verdict read from the records ref (its `recorded_by`): what
-- `pending` and `show` say about a teammate's work. NULL for records made in this clone.
ALTER TABLE generations ADD COLUMN recorded_by TEXT;
ALTER TABLE verdicts ADD COLUMN recorded_by TEXT;
